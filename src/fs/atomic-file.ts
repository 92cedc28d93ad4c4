import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, linkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
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
 * A source pinned to at most this many bytes is taken into memory, checked, and written with one synchronous
 * write: for a small file the thread-pool round trips of a file stream (open, write, close) cost far more than
 * the write. An import of the import benchmark's bundle into a new folder stages six such files.
 */
const SMALL_FILE = 64 * 1024;

/**
 * Streams source into a temp file opened with `wx`, hashing as it writes (in writes of about 1 MiB, however
 * small the source's chunks), and renames it to dest only when complete and (if `expected` is given) correct.
 * A source `expected` pins to a small size is hashed and checked before anything is written. On any failure
 * the temp file is removed and dest is untouched.
 */
export async function writeStreamAtomic(
  source: Readable,
  dest: string,
  options: AtomicWriteOptions = {},
): Promise<Digest> {
  const temp = tempPathFor(dest);
  const check = (digest: Digest) => {
    const problem = options.expected && digestProblem(digest, options.expected, options.label ?? dest);
    if (problem) throw problem;
  };
  let placed = false;
  try {
    let digest: Digest;
    const small = options.expected?.size;
    if (small !== undefined && small <= SMALL_FILE) {
      const taken = await takeSmall(source, small, options.onProgress);
      digest = taken.digest;
      check(digest);
      writeFileSync(temp, taken.bytes, { flag: 'wx' });
    } else {
      const hasher = new HashStream(options.onProgress);
      await pipeline(source, new CoalesceChunks(), hasher, createWriteStream(temp, { flags: 'wx' }));
      digest = hasher.digest;
      check(digest);
    }
    placeTemp(temp, dest, options.noClobber ?? false);
    placed = true;
    return digest;
  } finally {
    if (!placed) await rm(temp, { force: true });
  }
}

/** Renames temp to dest; with `noClobber`, links it there instead (EEXIST when dest exists) and unlinks temp. */
function placeTemp(temp: string, dest: string, noClobber: boolean): void {
  if (!noClobber) {
    renameSync(temp, dest);
    return;
  }
  // link() fails with EEXIST instead of replacing: the user's file is never overwritten.
  try {
    linkSync(temp, dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new OfflineError('EEXIST', `${dest}: already exists, not overwritten`, { file: dest });
    }
    throw error;
  }
  unlinkSync(temp);
}

/** A small source's bytes (no more than `limit` kept) and the digest of all it gave. */
async function takeSmall(
  source: Readable,
  limit: number,
  onProgress: ((bytes: number) => void) | undefined,
): Promise<{ digest: Digest; bytes: Buffer }> {
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let size = 0;
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
    hash.update(chunk);
    size += chunk.length;
    if (size <= limit) kept.push(chunk);
    onProgress?.(size);
  }
  return { digest: { sha256: hash.digest('hex'), size }, bytes: Buffer.concat(kept) };
}
