import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Digest } from './hash-stream.js';

const READ_CHUNK = 1024 * 1024;

/** sha256 and size of a file, streamed in 1 MiB reads. */
export async function hashFile(file: string): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
