import path from 'node:path';
import type { Command } from 'commander';
import { locateBundle } from '../../bundle/locate.js';
import { readBundle } from '../../bundle/reader.js';
import { action } from '../run.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check a bundle (or its parts) completely, streaming, without Docker; exit 3 on any problem')
    .argument('<bundle>', 'the bundle archive, any of its parts, or the folder holding them')
    .addHelpText('after', '\nExample:\n  offline verify /media/usb/demo-1.0.0.offline.tar.gz.part001 --json')
    .action(
      action(async (output, bundle: string) => {
        const location = await locateBundle(bundle);
        if (!location.sidecar)
          output.warn(`${location.archiveName}: no .sha256 sidecar; only the contents are checked`);
        const result = await readBundle(location, {}, { failFast: false });
        const bytes = result.verified.reduce((sum, f) => sum + f.size, 0);
        return {
          data: {
            bundle: location.archiveName,
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
            `${location.archiveName}: ${location.parts.length} file(s) on the media${location.sidecar ? ' match the sidecar' : ''}; ${result.verified.length} bundle files (${bytes} bytes) verified, all good`,
          ],
        };
      }),
    );
}
