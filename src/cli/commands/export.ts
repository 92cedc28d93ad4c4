import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseSize } from '../../bundle/size.js';
import type { ExportFlags } from '../../export/resolve-options.js';
import { interruptible } from '../interrupt.js';
import { action } from '../run.js';

/**
 * `--version` after `export` names the bundle version, but commander hands any `--version` to the root
 * program's own -V/--version. Rewrites it to --bundle-version for the export command only.
 */
export function exportVersionAlias(argv: readonly string[]): string[] {
  const at = argv.indexOf('export', 2);
  if (at < 0 || argv.slice(2, at).some((a) => !a.startsWith('-'))) return [...argv];
  return argv.map((arg, i) =>
    i <= at
      ? arg
      : arg === '--version'
        ? '--bundle-version'
        : arg.replace(/^--version=/, '--bundle-version='),
  );
}

function sizeOption(value: string): number {
  try {
    return parseSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('turn a Compose stack into one verified, deduplicated bundle file (on a connected host)')
    .argument('[definition]', 'bundle folder holding bundle.yaml (e.g. bundles/demo), or the file itself')
    .option('-f, --file <compose>', 'compose file (default: from bundle.yaml, else docker-compose.yml here)')
    .requiredOption('-o, --out <dir>', 'folder to write the bundle, its parts and its .sha256 sidecar to')
    .option('--name <name>', 'bundle name, also the compose project name (default: bundle.yaml, else folder)')
    .option('--bundle-version <version>', 'bundle version (also accepted as --version after export)')
    .option(
      '--profile <name>',
      'include only this compose profile (repeatable; default: every profile)',
      collect,
    )
    .addOption(new Option('--compression <kind>', 'archive compression').choices(['gzip', 'zstd', 'none']))
    .option('--split-size <size>', 'write parts of at most SIZE (700M, 4G, fat32 = 4 GiB - 1)', sizeOption)
    .addOption(
      new Option('--pull <policy>', 'pull policy for images').choices(['missing', 'always', 'never']),
    )
    .option('--platform <os/arch>', 'platform to pull and build for, e.g. linux/amd64')
    .option('--encodings <list>', 'tiktoken encodings to ship, comma-separated (e.g. cl100k_base,o200k_base)')
    .option('--build-cache', 'ship build caches so changed services rebuild offline from cache')
    .option('--no-build-cache', 'do not ship build caches')
    .option('--include-secrets', 'ship files that look like secrets (.env, keys) instead of refusing')
    .option('--force', 'replace a bundle of the same name and version in --out')
    .option(
      '--with-runtime',
      "also ship `offline`, a Node single executable for this host's platform (no Node needed to import)",
    )
    .option('--json', 'print one JSON result object on stdout')
    .addHelpText(
      'after',
      `
Examples:
  offline export bundles/demo --out ./out
  offline export -f docker-compose.yml --name shop --version 2.1.0 --out /media/usb --split-size fat32
  SOURCE_DATE_EPOCH=1700000000 offline export bundles/demo --out ./out --json   # same inputs, same bytes`,
    )
    .action(
      action(async (output, definition: string | undefined, flags: ExportFlags) => {
        const [{ connectDocker }, { resolveExportOptions }, { runExport }, { exportSummary }] =
          await Promise.all([
            import('../../docker/connect.js'),
            import('../../export/resolve-options.js'),
            import('../../export/run-export.js'),
            import('../../export/summary.js'),
          ]);
        const options = await resolveExportOptions(definition, flags);
        return interruptible(output, 'stopping and removing partial files', async (signal) => {
          const engine = await connectDocker();
          return exportSummary(await runExport(options, engine, output, signal));
        });
      }),
    );
}
