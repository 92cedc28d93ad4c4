import path from 'node:path';
import type { Command } from 'commander';
import { BUNDLE_ARGUMENT } from '../bundle-argument.js';
import { formatBytes } from '../progress-line.js';
import { action } from '../run.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check a bundle (or its parts) completely, streaming, without Docker; exit 3 on any problem')
    .argument('<bundle>', BUNDLE_ARGUMENT)
    .addHelpText('after', '\nExample:\n  offline verify /media/usb/demo-1.0.0.offline.tar.gz.part001 --json')
    .action(
      action(async (output, bundle: string) => {
        const [{ locateBundle }, { readBundleWithProgress }, { bundleFolderOutputs, stackInUse }] =
          await Promise.all([
            import('../../bundle/locate.js'),
            import('../../bundle/read-with-progress.js'),
            import('../../selfcontained/in-place.js'),
          ]);
        const location = await locateBundle(bundle);
        if (location.kind === 'archive' && !location.sidecar)
          output.warn(`${location.archiveName}: no .sha256 sidecar; only the contents are checked`);
        // An extracted folder may hold an in-place import (its stack/ folder): those files are not "unlisted".
        const ignoreOutputs =
          location.kind === 'folder'
            ? { ignoreUnlisted: bundleFolderOutputs(location.dir, await stackInUse(location.dir)) }
            : {};
        const result = await readBundleWithProgress(
          output.progress,
          location,
          {},
          { failFast: false, ...ignoreOutputs },
        );
        const bytes = formatBytes(result.verified.reduce((sum, f) => sum + f.size, 0));
        return {
          data: {
            bundle: location.archiveName,
            kind: location.kind,
            compression: location.compression,
            // What was checked on the media: each file with the sidecar's sha256 it matched.
            media: location.parts.map((part) => ({
              file: part,
              sha256: location.expected.get(path.basename(part)) ?? null,
            })),
            sidecar: location.sidecar ?? null,
            files: result.verified,
          },
          summary: [
            location.kind === 'folder'
              ? `${location.dir}: extracted bundle folder; ${result.verified.length} bundle files (${bytes}) verified, all good`
              : `${location.archiveName}: ${location.parts.length} file(s) on the media${location.sidecar ? ' match the sidecar' : ''}; ${result.verified.length} bundle files (${bytes}) verified, all good`,
          ],
        };
      }),
    );
}
