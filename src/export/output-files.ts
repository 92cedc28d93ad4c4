import { readdir } from 'node:fs/promises';
import { archiveFileName, type Compression, EXTENSIONS, sidecarFileName } from '../bundle/layout.js';
import { OfflineError } from '../errors.js';
import type { ExportOptions } from './options.js';

/**
 * The names in --out that belong to this bundle, in any compression: the archive, its parts and its sidecar. A
 * .tar.gz left beside a new .tar.zst of the same name and version would be a second, older copy of it.
 */
export async function existingBundleFiles(options: ExportOptions): Promise<string[]> {
  const archives = (Object.keys(EXTENSIONS) as Compression[]).map((c) =>
    archiveFileName(options.name, options.version, c),
  );
  const names = await readdir(options.outDir).catch(() => [] as string[]);
  const ours = (n: string) =>
    archives.some((a) => n === a || n === sidecarFileName(a) || n.startsWith(`${a}.part`));
  return names.filter(ours).sort();
}

/** Refuses (EEXIST) to start when --out already holds this bundle, unless --force. */
export async function assertOutputFree(options: ExportOptions): Promise<void> {
  if (options.force) return;
  const existing = await existingBundleFiles(options);
  if (existing.length > 0) {
    throw new OfflineError(
      'EEXIST',
      `${options.outDir} already holds ${existing.join(', ')}: not overwritten`,
      {
        file: existing[0],
        hint: 'choose another --out or --version, or pass --force to replace it',
      },
    );
  }
}
