import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestProblem, type Pinned } from '../checksum/digest-problem.js';
import { type Digest, HashStream } from '../checksum/hash-stream.js';
import { OfflineError } from '../errors.js';
import { CoalesceChunks } from './coalesce-chunks.js';

export interface AtomicWriteOptions {
  /** When given, the file is only renamed into place if the bytes match. */
  expected?: Pinned;
  /** Refuse to replace an existing file at dest (EEXIST) instead of overwriting it. */
  noClobber?: boolean;
  /** Called with the byte count as data flows, for progress. */
  onProgress?: (bytes: number) => void;
  /** Names the source in error messages (a URL, an archive entry). */
  label?: string;
}

/** A temp name beside dest, so the final rename stays on one file system. */
export function tempPathFor(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Streams source into a temp file opened with `wx`, hashing as it writes (in writes of about 1 MiB, however
 * small the source's chunks), and renames it to dest only when complete and (if `expected` is given) correct.
 * On any failure the temp file is removed and dest is untouched.
 */
export async function writeStreamAtomic(
  source: Readable,
  dest: string,
  options: AtomicWriteOptions = {},
): Promise<Digest> {
  const temp = tempPathFor(dest);
  const hasher = new HashStream(options.onProgress);
  let placed = false;
  try {
    await pipeline(source, new CoalesceChunks(), hasher, createWriteStream(temp, { flags: 'wx' }));
    const digest = hasher.digest;
    const problem = options.expected && digestProblem(digest, options.expected, options.label ?? dest);
    if (problem) throw problem;
    if (options.noClobber) {
      // link() fails with EEXIST instead of replacing: the user's file is never overwritten.
      try {
        await link(temp, dest);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new OfflineError('EEXIST', `${dest}: already exists, not overwritten`, { file: dest });
        }
        throw error;
      }
      await unlink(temp);
    } else {
      await rename(temp, dest);
    }
    placed = true;
    return digest;
  } finally {
    if (!placed) await rm(temp, { force: true });
  }
}
