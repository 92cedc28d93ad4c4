import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../checksum/hash-stream.js';
import type { DockerEngine } from '../docker/engine.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { TarMtimeNormalizer } from './tar-mtime.js';

/**
 * One multi-image `docker save` of refs, streamed through a hash into dest (temp name, renamed when
 * complete): shared layers are stored once and nothing is held in memory. Entry mtimes are set to `mtime`
 * (docker stamps repeated layers with the time of the save). Aborting destroys the stream.
 */
export async function saveImagesTo(
  engine: DockerEngine,
  refs: readonly string[],
  dest: string,
  mtime: Date,
  onBytes?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<Digest> {
  signal?.throwIfAborted();
  await mkdir(path.dirname(dest), { recursive: true });
  const stream: Readable = await engine.saveImages(refs);
  const normalized = new TarMtimeNormalizer(mtime);
  stream.on('error', (error) => normalized.destroy(error));
  stream.pipe(normalized);
  const abort = () => stream.destroy(new Error('aborted'));
  signal?.addEventListener('abort', abort, { once: true });
  try {
    return await writeStreamAtomic(normalized, dest, {
      label: `docker save → ${path.basename(dest)}`,
      onProgress: onBytes,
    });
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
