import type { Command } from 'commander';
import { locateBundle } from '../../bundle/locate.js';
import type { BundleManifest } from '../../bundle/manifest.js';
import { readBundle } from '../../bundle/reader.js';
import { BUNDLE_ARGUMENT } from '../bundle-argument.js';
import { action } from '../run.js';

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description("list a bundle's images, sizes, encodings, services and files, reading only its head")
    .argument('<bundle>', BUNDLE_ARGUMENT)
    .addHelpText('after', '\nExample:\n  offline inspect ./out/demo-1.0.0.offline.tar.gz')
    .action(
      action(async (_output, bundle: string) => {
        const location = await locateBundle(bundle);
        const { manifest } = await readBundle(location, { stopBefore: () => true });
        return {
          data: {
            bundle: location.archiveName,
            compression: location.compression,
            parts: location.parts,
            manifest,
          },
          summary: describe(manifest),
        };
      }),
    );
}

function describe(m: BundleManifest): string[] {
  return [
    `${m.name} ${m.version} (format ${m.schemaVersion}, made by ${m.tool.name} ${m.tool.version} on ${m.createdAt})`,
    `images (${m.images.length}):`,
    ...m.images.map(
      (i) =>
        `  ${i.tags.join(', ') || i.id}  ${i.os}/${i.architecture}  ${mib(i.size)}  ${i.id.slice(0, 19)}`,
    ),
    `services (${m.services.length}): ${m.services.map((s) => `${s.name}${s.built ? ' (built)' : ''}`).join(', ')}`,
    `tiktoken (${m.tiktoken.entries.length}): ${m.tiktoken.entries.map((e) => e.encoding).join(', ') || 'none'}`,
    `files (${m.files.length}):`,
    ...m.files.map((f) => `  ${f.path}  ${f.size} bytes`),
  ];
}
