import { readdir } from 'node:fs/promises';
import { archiveFileName, sidecarFileName } from '../bundle/layout.js';
import { OfflineError } from '../errors.js';
import type { ExportOptions } from './options.js';

/** The names in --out that belong to this bundle: the archive, its parts and its sidecar. */
export async function existingBundleFiles(options: ExportOptions): Promise<string[]> {
  const archive = archiveFileName(options.name, options.version, options.compression);
  const names = await readdir(options.outDir).catch(() => [] as string[]);
  return names
    .filter((n) => n === archive || n === sidecarFileName(archive) || n.startsWith(`${archive}.part`))
    .sort();
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
