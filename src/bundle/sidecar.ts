import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { formatChecksums } from '../checksum/sha256sum-format.js';
import { tempPathFor, writeStreamAtomic } from '../fs/atomic-file.js';
import type { WrittenFile } from './split-writer.js';

/**
 * The sidecar `<archive>.sha256` in GNU sha256sum format: one line per file on the media (the archive, or each
 * part and not the archive), named by base name so `sha256sum -c` runs in the folder that holds them.
 */
export function formatSidecar(files: readonly WrittenFile[]): string {
  return formatChecksums(files.map((f) => ({ path: path.basename(f.file), sha256: f.sha256 })));
}

/** Writes the sidecar under a temp name; `place()` renames it into place, `discard()` removes the temp. */
export async function stageSidecar(
  sidecar: string,
  files: readonly WrittenFile[],
): Promise<{ place(): Promise<void>; discard(): Promise<void> }> {
  const temp = tempPathFor(sidecar);
  await writeStreamAtomic(Readable.from([formatSidecar(files)]), temp);
  return {
    place: () => rename(temp, sidecar),
    discard: () => rm(temp, { force: true }),
  };
}
