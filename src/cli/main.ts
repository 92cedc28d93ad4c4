#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { keepRunningWhenOutputCloses } from './closed-output.js';
import { registerChecksum } from './commands/checksum.js';
import { registerDeploy } from './commands/deploy.js';
import { exportVersionAlias, registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerInspect } from './commands/inspect.js';
import { registerPush } from './commands/push.js';
import { registerRebuild } from './commands/rebuild.js';
import { registerTiktoken } from './commands/tiktoken.js';
import { registerVerify } from './commands/verify.js';
import { printUsageErrorJson } from './output.js';
import { toolVersion } from './version.js';

/**
 * Every command is registered, but each loads the modules that do its work only when it runs: its action
 * imports them (`await import`), so a run evaluates its own command's code and no other's. Loaded up front, an
 * import evaluated export's, push's and tiktoken's modules too (got, listr2, yaml): a re-import of the import
 * benchmark's bundle took 10 ms longer (medians of 60 interleaved runs).
 */
export function buildProgram(): Command {
  const program = new Command('offline')
    .description(
      'Move a Docker/Compose application onto an air-gapped host: export a verified bundle, import it.',
    )
    .version(toolVersion(), '-V, --version')
    .option('--json', 'print one JSON result object on stdout (progress stays on stderr)')
    .option('--debug', 'print stack traces and plain progress lines')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  registerChecksum(program);
  registerExport(program);
  registerImport(program);
  registerVerify(program);
  registerInspect(program);
  registerRebuild(program);
  registerTiktoken(program);
  registerPush(program);
  registerDeploy(program);
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 failure, 2 usage, 3 integrity problem, 4 Docker engine unreachable.

Example:
  offline export bundles/demo --out ./out      # on the connected host
  offline import ./out/demo-*.tar.gz --start   # on the air-gapped host`,
  );
  return program;
}

export async function main(argv: string[]): Promise<void> {
  keepRunningWhenOutputCloses();
  const program = buildProgram();
  try {
    await program.parseAsync(exportVersionAlias(argv));
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpOrVersion = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(
        error.code,
      );
      process.exitCode = helpOrVersion ? ExitCode.ok : ExitCode.usage;
      if (!helpOrVersion && argv.includes('--json')) printUsageErrorJson(error.message);
      return;
    }
    throw error;
  }
}

// No top-level await: the single executable's CommonJS build (src/selfcontained/sea-build.ts) bundles this file.
main(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
