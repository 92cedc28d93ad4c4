import path from 'node:path';
import type { Command } from 'commander';
import type { BundleLocation } from '../../bundle/locate.js';
import type { BundleManifest } from '../../bundle/manifest.js';
import { OfflineError } from '../../errors.js';
import { BUNDLE_ARGUMENT } from '../bundle-argument.js';
import { formatBytes } from '../progress-line.js';
import { action } from '../run.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description("list a bundle's images, sizes, encodings, services and files, reading only its head")
    .argument('<bundle>', BUNDLE_ARGUMENT)
    .addHelpText('after', '\nExample:\n  offline inspect ./out/demo-1.0.0.offline.tar.gz')
    .action(
      action(async (_output, bundle: string) => {
        const [{ locateBundle }, { readBundle }] = await Promise.all([
          import('../../bundle/locate.js'),
          import('../../bundle/reader.js'),
        ]);
        // Only the head is read: the first parts do, while the others are still being copied.
        const location = await locateBundle(bundle, { leadingParts: true });
        const { manifest } = await readBundle(location, { stopBefore: () => true }).catch(
          (error: unknown) => {
            throw headMissing(location, error) ?? error;
          },
        );
        return {
          data: {
            bundle: location.archiveName,
            compression: location.compression,
            parts: location.parts,
            ...(location.absent.length > 0 && { absentParts: location.absent }),
            manifest,
          },
          summary: [
            ...describe(manifest),
            ...(location.absent.length > 0
              ? [
                  `(read from the first ${location.parts.length} part(s); not here yet: ${location.absent[0]}${location.absent.length > 1 ? ` and ${location.absent.length - 1} more` : ''})`,
                ]
              : []),
          ],
        };
      }),
    );
}

/**
 * The head runs on past the parts present: the error names the first part to copy. A part found damaged (the
 * sidecar's sha256 differs) is reported as itself.
 */
function headMissing(location: BundleLocation, error: unknown): OfflineError | undefined {
  const part = location.absent[0];
  if (part === undefined) return undefined;
  const present = location.parts.map((p) => path.basename(p));
  if (error instanceof OfflineError && error.file !== undefined && present.includes(error.file))
    return undefined;
  const reason = error instanceof OfflineError ? error.message : String(error);
  return new OfflineError('EMISSING', `${part}: missing, and the bundle's head goes on into it; copy it`, {
    file: part,
    hint: `inspect reads only the head, which the ${present.length} part(s) here do not hold whole (${reason})`,
    cause: error,
  });
}

function describe(m: BundleManifest): string[] {
  return [
    `${m.name} ${m.version} (format ${m.schemaVersion}, made by ${m.tool.name} ${m.tool.version} on ${m.createdAt})`,
    `images (${m.images.length}):`,
    ...m.images.map(
      (i) =>
        `  ${i.tags.join(', ') || i.id}  ${i.os}/${i.architecture}  ${formatBytes(i.size)}  ${i.id.slice(0, 19)}`,
    ),
    `services (${m.services.length}): ${m.services.map((s) => `${s.name}${s.built ? ' (built)' : ''}`).join(', ')}`,
    `tiktoken (${m.tiktoken.entries.length}): ${m.tiktoken.entries.map((e) => e.encoding).join(', ') || 'none'}`,
    `files (${m.files.length}):`,
    ...m.files.map((f) => `  ${f.path}  ${formatBytes(f.size)}`),
  ];
}
