import type { Command } from 'commander';
import { CHECKSUMS_FILE, createChecksums, verifyDirectory } from '../../checksum/directory.js';
import { worstProblem } from '../../checksum/worst-problem.js';
import { OfflineError } from '../../errors.js';
import { action } from '../run.js';

export function registerChecksum(program: Command): void {
  const checksum = program
    .command('checksum')
    .description('write or verify a sha256sum-compatible checksum list for a folder')
    .addHelpText(
      'after',
      '\nExample:\n  offline checksum create ./bundle\n  offline checksum verify ./bundle   # exit 3 if any file changed',
    );

  checksum
    .command('create')
    .description(`hash every file under DIR into DIR/${CHECKSUMS_FILE} (GNU sha256sum format)`)
    .argument('<dir>', 'folder to cover')
    .addHelpText(
      'after',
      '\nExample:\n  offline checksum create ./bundle && (cd bundle && sha256sum -c checksums.sha256)',
    )
    .action(
      action(async (output, dir: string) => {
        const entries = await createChecksums(dir);
        const bytes = entries.reduce((sum, e) => sum + (e.size ?? 0), 0);
        output.info(`hashed ${entries.length} files (${bytes} bytes)`);
        return {
          data: { dir, list: CHECKSUMS_FILE, files: entries.length, bytes },
          summary: [`wrote ${dir}/${CHECKSUMS_FILE}: ${entries.length} files`],
        };
      }),
    );

  checksum
    .command('verify')
    .description(`verify every file under DIR against DIR/${CHECKSUMS_FILE}; exit 3 on any problem`)
    .argument('<dir>', 'folder holding the list')
    .option('--allow-unlisted', 'do not fail on files that the list does not name')
    .addHelpText('after', '\nExample:\n  offline checksum verify ./bundle --json')
    .action(
      action(async (output, dir: string, options: { allowUnlisted?: boolean }) => {
        const result = await verifyDirectory(dir, { allowUnlisted: options.allowUnlisted ?? false });
        for (const note of result.notes) output.warn(note);
        if (!result.ok) {
          throw new OfflineError(
            worstProblem(result.problems)?.code ?? 'EINTEGRITY',
            `${dir}: ${result.problems.length} problem(s) found, ${result.verified.length} file(s) good`,
            { file: dir, problems: result.problems },
          );
        }
        return {
          data: { dir, verified: result.verified.length, files: result.verified },
          summary: [`${dir}: ${result.verified.length} files verified, all good`],
        };
      }),
    );
}
