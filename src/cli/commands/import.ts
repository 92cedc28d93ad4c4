import type { Command } from 'commander';
import { BUNDLE_ARGUMENT } from '../bundle-argument.js';
import { interruptible } from '../interrupt.js';
import { positiveWholeNumber } from '../option-values.js';
import { action } from '../run.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'verify a bundle while it streams, load its images, place its files, and optionally start the stack',
    )
    .argument('<bundle>', BUNDLE_ARGUMENT)
    .option(
      '-t, --target <dir>',
      'folder for the stack files, the tiktoken cache and import-report.json (default: the current folder; for an extracted bundle folder, its stack/ folder: the stack runs in place)',
    )
    .option('--start', 'start the stack (compose up -d, no build, no pull) and wait until it is healthy')
    .option('--timeout <seconds>', 'how long --start waits for healthy services', '180')
    .option('--force', 'go on despite a platform mismatch; replace changed files (each backed up first)')
    .option(
      '--registry <host[:port][/prefix]>',
      'the images are in this registry (offline push): load nothing, write docker-compose.registry.yml beside the compose file; --start pulls from there',
    )
    .addHelpText(
      'after',
      '\nExample:\n  offline import /media/usb/demo-1.0.0.offline.tar.gz --target /opt/demo --start\n  offline import /media/usb --target /opt/demo          # the folder holding the parts\n  node offline.mjs import . --start                     # inside a bundle folder extracted with tar\n  offline import ./demo-1.0.0.offline.tar.gz --registry registry.local:5000/demo --target /opt/demo --start',
    )
    .action(
      action(
        async (
          output,
          bundle: string,
          flags: { target?: string; start?: boolean; timeout: string; force?: boolean; registry?: string },
        ) => {
          const timeout = positiveWholeNumber('--timeout', flags.timeout);
          const [{ connectDocker }, { runImport }, { defaultImportTarget }] = await Promise.all([
            import('../../docker/connect.js'),
            import('../../import/run-import.js'),
            import('../../selfcontained/in-place.js'),
          ]);
          const engine = await connectDocker();
          const options = {
            bundle,
            target: flags.target ?? (await defaultImportTarget(bundle)),
            start: Boolean(flags.start),
            timeout,
            force: Boolean(flags.force),
            ...(flags.registry !== undefined && { registry: flags.registry }),
          };
          const report = await interruptible(
            output,
            'stopping; what this import loaded and wrote is undone (a stack it already started keeps running)',
            (signal) => runImport(options, engine, output, signal),
          );
          // Files the target holds unchanged need not be read (a re-import stops after the lists): the line says
          // how many, which explains a short 'verified' count.
          const unchanged = report.files.filter((f) => f.action === 'unchanged').length;
          const summary = [
            `imported ${report.bundle.name} ${report.bundle.version} into ${report.target}`,
            `  verified ${report.verified.length} file(s)${unchanged > 0 ? `, ${unchanged} file(s) unchanged in the target` : ''}; ${
              report.registry
                ? `images from ${report.registry.registry}: ${report.registry.composeOverride}`
                : `images loaded ${report.images.loaded.length}, already present ${report.images.skipped.length}`
            }`,
            ...(report.tiktokenCacheDir ? [`  set TIKTOKEN_CACHE_DIR=${report.tiktokenCacheDir}`] : []),
            ...(report.env ? [`  created ${report.env} with generated secrets`] : []),
            ...(report.started
              ? [
                  `  started: ${report.started.services.map((s) => `${s.name} ${s.health ?? s.state}`).join(', ')}`,
                ]
              : []),
            `  report: ${report.target}/import-report.json`,
          ];
          return { data: { report }, summary };
        },
      ),
    );
}
