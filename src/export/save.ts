import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../checksum/hash-stream.js';
import type { DockerEngine } from '../docker/engine.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';

/**
 * One multi-image `docker save` of refs, streamed through a hash into dest (temp name, renamed when
 * complete): shared layers are stored once and nothing is held in memory. Aborting destroys the stream.
 */
export async function saveImagesTo(
  engine: DockerEngine,
  refs: readonly string[],
  dest: string,
  onBytes?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<Digest> {
  signal?.throwIfAborted();
  await mkdir(path.dirname(dest), { recursive: true });
  const stream: Readable = await engine.saveImages(refs);
  const abort = () => stream.destroy(new Error('aborted'));
  signal?.addEventListener('abort', abort, { once: true });
  try {
    return await writeStreamAtomic(stream, dest, {
      label: `docker save → ${path.basename(dest)}`,
      onProgress: onBytes,
    });
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
