import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Digest } from '../checksum/hash-stream.js';
import type { DockerEngine } from '../docker/engine.js';
import { tempPathFor, writeStreamAtomic } from '../fs/atomic-file.js';
import { canonicalSave } from './canonical-save.js';

/**
 * One multi-image `docker save` of refs: shared layers are stored once. The engine's bytes are streamed to a
 * temp file beside dest, then rewritten in canonical form (sorted image list, shared layer files in a fixed
 * place, fixed mtimes) through a hash into dest, renamed when complete. Nothing is held in memory. Aborting
 * destroys the streams; the temp files are removed whatever happens.
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
  const raw = tempPathFor(dest);
  const stream: Readable = await engine.saveImages(refs);
  const abort = () => stream.destroy(new Error('aborted'));
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await writeStreamAtomic(stream, raw, { label: `docker save ${refs.join(' ')}`, onProgress: onBytes });
    signal?.throwIfAborted();
    return await writeStreamAtomic(Readable.from(canonicalSave(raw, mtime), { signal }), dest, {
      label: path.basename(dest),
    });
  } finally {
    signal?.removeEventListener('abort', abort);
    await rm(raw, { force: true });
  }
}
