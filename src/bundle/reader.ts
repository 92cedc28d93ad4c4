import path from 'node:path';
import { type Duplex, type Readable, Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { type Digest, HashStream } from '../checksum/hash-stream.js';
import type { ChecksumEntry } from '../checksum/sha256sum-format.js';
import { OfflineError } from '../errors.js';
import { CoalesceChunks } from '../fs/coalesce-chunks.js';
import {
  type BundleLists,
  checkLists,
  damagedInstead,
  entryMismatch,
  MAX_LIST_BYTES,
  problemSink,
  readOutcome,
  sizeMismatch,
} from './bundle-lists.js';
import { combineProblems } from './combine-errors.js';
import { createDecompressor } from './compress.js';
import { guardEntry } from './entry-guard.js';
import { readFolderBundle } from './folder-reader.js';
import { CHECKSUMS_FILE, type Compression, entryRank, MANIFEST_FILE } from './layout.js';
import { type BundleLocation, isPartFile } from './locate.js';
import type { BundleManifest } from './manifest.js';
import { PartsSource } from './parts-stream.js';

export interface BundleEntry {
  /** Path under the bundle's top folder. */
  path: string;
  size: number;
  /** sha256 from checksums.sha256, size from manifest.json. */
  expected: { sha256: string; size: number };
  /**
   * The entry's bytes; the reader hashes them as they flow. Read it to its end (or return and let the reader
   * drain it). If the read fails part-way (a damaged archive), this stream is destroyed with the error.
   */
  stream: Readable;
  /** True when the archive gives the file an executable mode (scripts keep it on import). */
  executable: boolean;
}

export interface BundleReadHandler {
  /** Called once manifest.json and checksums.sha256 are read and manifest.json is proven by its checksum. */
  onLists?(manifest: BundleManifest, checksums: ChecksumEntry[]): Promise<void> | void;
  /** Return true to stop reading before this entry (e.g. the image archive when every image is present). */
  stopBefore?(path: string): boolean;
  onEntry?(entry: BundleEntry): Promise<void>;
  /** Called after an entry's bytes matched its sha256 and size. */
  onEntryVerified?(path: string, digest: Digest): Promise<void> | void;
}

export interface ReadOptions {
  /** Stop at the first problem (import, default) or go on and report every problem found (verify). */
  failFast?: boolean;
  signal?: AbortSignal;
  /** Bytes read from the media so far. */
  onBytes?: (bytes: number) => void;
  /**
   * Extracted folders only: paths neither list names that are not to be reported, as unlisted files or as
   * links and other non-regular files (what an import in place, or the stack running there, wrote).
   */
  ignoreUnlisted?: (path: string, manifest: BundleManifest, kind: 'file' | 'other') => boolean;
}

export interface BundleReadResult {
  manifest: BundleManifest;
  checksums: ChecksumEntry[];
  /** Entries whose size and sha256 matched, in archive order (manifest.json first). */
  verified: (ChecksumEntry & { size: number })[];
  /** Set when the handler stopped the read before this entry. */
  stoppedBefore?: string;
}

/**
 * Reads a bundle from the media exactly once: parts joined and each checked against the sidecar, decompressed,
 * and each tar entry checked defensively, hashed while it flows to the handler, and compared with
 * checksums.sha256 and manifest.json's sizes (docs/bundle-format.md section 4). On any problem the streams are
 * destroyed and the error rethrown (failFast), or every problem is collected and thrown together at the end.
 * After a decoder error the part being read is checked, so a bad copy is reported as the part to copy again.
 * An extracted bundle folder (location.kind 'folder') is read file by file with the same checks.
 */
export async function readBundle(
  location: BundleLocation,
  handler: BundleReadHandler = {},
  options: ReadOptions = {},
): Promise<BundleReadResult> {
  if (location.kind === 'folder') return readFolderBundle(location, handler, options);
  const failFast = options.failFast ?? true;
  const where = location.archiveName;
  const { problems, report } = problemSink(failFast);
  const verified: BundleReadResult['verified'] = [];
  const heads: Buffer[] = [];
  const seen = new Set<string>();
  let lists: BundleLists | undefined;
  let top: string | undefined;
  let current: { path: string; done: boolean } | undefined;
  let active: HashStream | undefined;
  /** The list at the bundle's head being read into memory, if any: a failed read must end it too. */
  let head: tar.ReadEntry | undefined;
  let stoppedBefore: string | undefined;
  let fatal: unknown;
  let userAbort = false;
  const controller = new AbortController();
  const fail = (reason: unknown) => {
    fatal ??= reason;
    const error = reason instanceof Error ? reason : new Error(String(reason));
    active?.destroy(error);
    head?.destroy(error);
    controller.abort();
  };
  const onUserAbort = () => {
    userAbort = true;
    fail(options.signal?.reason);
  };
  if (options.signal?.aborted) onUserAbort();
  options.signal?.addEventListener('abort', onUserAbort, { once: true });
  const source = new PartsSource(location, report, options.onBytes);

  async function handleEntry(entry: tar.ReadEntry): Promise<void> {
    current = { path: entry.path, done: false };
    let guarded: ReturnType<typeof guardEntry>;
    try {
      guarded = guardEntry(entry, top, where);
    } catch (error) {
      entry.resume();
      if (!lists) throw error;
      return report(error as OfflineError);
    }
    top ??= guarded.raw.split('/')[0];
    const rel = guarded.rel;
    if (guarded.kind === 'folder') return void entry.resume();
    if (!lists) return readHead(entry, rel);
    if (handler.stopBefore?.(rel)) {
      stoppedBefore = rel;
      entry.resume();
      return stopQuietly(controller);
    }
    const want = lists.expected.get(rel);
    const unlisted = `${rel}: in the archive but not in ${CHECKSUMS_FILE} or ${MANIFEST_FILE}`;
    const refused = seen.has(rel)
      ? new OfflineError('EUNSAFE_PATH', `${rel}: appears twice in ${where}`, { file: rel })
      : !want
        ? new OfflineError('EUNLISTED', unlisted, { file: rel })
        : sizeMismatch(rel, want, entry.size);
    seen.add(rel);
    if (refused || !want) {
      entry.resume();
      return report(refused as OfflineError);
    }
    const hasher = new HashStream();
    // Destroyed with the read's error when the archive fails part-way; the consumer hears it through its own
    // pipeline, so an unconsumed stream must not turn it into an unhandled error.
    hasher.on('error', () => {});
    active = hasher;
    entry.pipe(hasher);
    try {
      await handler.onEntry?.({
        path: rel,
        size: entry.size,
        expected: want,
        stream: hasher,
        executable: ((entry.mode ?? 0) & 0o111) !== 0,
      });
    } catch (error) {
      throw await damagedInstead(error, rel, want, hasher);
    }
    hasher.resume();
    await finished(hasher);
    active = undefined;
    current.done = true;
    const digest = hasher.digest;
    const mismatch = entryMismatch(rel, want, digest);
    if (mismatch) return report(mismatch);
    verified.push({ path: rel, sha256: digest.sha256, size: digest.size });
    await handler.onEntryVerified?.(rel, digest);
  }

  async function readHead(entry: tar.ReadEntry, rel: string): Promise<void> {
    const want = heads.length === 0 ? MANIFEST_FILE : CHECKSUMS_FILE;
    if (rel !== want || entry.size > MAX_LIST_BYTES) {
      entry.resume();
      throw new OfflineError(
        'EFORMAT',
        `${where}: not an offline bundle (entry ${heads.length + 1} is "${rel}" of ${entry.size} bytes, expected "${want}")`,
        { file: where, expected: want, found: rel },
      );
    }
    const chunks: Buffer[] = [];
    head = entry;
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    head = undefined;
    if (fatal !== undefined) return;
    heads.push(Buffer.concat(chunks));
    if (current) current.done = true;
    if (heads.length < 2) return;
    lists = checkLists(heads[0] as Buffer, heads[1] as Buffer);
    verified.push({ path: MANIFEST_FILE, ...lists.manifestDigest });
    await source.holdWhile(Promise.resolve(handler.onLists?.(lists.manifest, lists.checksums)));
  }

  let chain: Promise<void> = Promise.resolve();
  const parser = new tar.Parser({ strict: true });
  parser.on('entry', (entry: tar.ReadEntry) => {
    chain = chain
      .then(() => (controller.signal.aborted ? void entry.resume() : handleEntry(entry)))
      .catch((error) => {
        entry.resume();
        fail(error);
      });
  });

  try {
    await pipeline([source.stream, ...decoding(location.compression), parser], { signal: controller.signal });
  } catch (error) {
    if (!controller.signal.aborted)
      fail(damaged(where, current, error, damageHint(location, source.readToEnd && cutShort(error))));
  } finally {
    options.signal?.removeEventListener('abort', onUserAbort);
  }
  await chain;
  if (fatal !== undefined) {
    if (userAbort) throw fatal;
    throw combineProblems(where, [...(await source.settle(!failFast)), ...problems, fatal as OfflineError]);
  }
  if (!lists) {
    throw new OfflineError(
      'EFORMAT',
      `${where}: not an offline bundle (no ${MANIFEST_FILE} and ${CHECKSUMS_FILE} at its start)`,
      { file: where },
    );
  }
  // Stopped before an entry, every entry ranked before it must have come (docs/bundle-format.md section 2).
  const due = (path: string) => stoppedBefore === undefined || entryRank(path) < entryRank(stoppedBefore);
  for (const path of lists.expected.keys()) {
    if (seen.has(path) || !due(path)) continue;
    report(
      new OfflineError('EMISSING', `${path}: listed in ${CHECKSUMS_FILE} but not in the archive`, {
        file: path,
      }),
    );
  }
  return readOutcome(where, problems, lists, verified, stoppedBefore);
}

/**
 * Aborts the read where the handler stopped it. That is no error, and the AbortError the streams are destroyed with
 * is never shown: it is made without a stack. Node's streams read the stack of the error they are destroyed with,
 * and the first stack with frames in offline.mjs's 870 KB script is slow to format: in a re-import the abort took
 * 4-6 ms with it and 1-2 ms without.
 */
function stopQuietly(controller: AbortController): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    controller.abort();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The decompressor and what its pieces go through before the tar parser. zstd's output arrives through a pipe in
 * pieces of at most 64 KiB, merged into 1 MiB ones so the hashing, parsing and writing downstream run per MiB.
 */
function decoding(compression: Compression): Duplex[] {
  const decompressor = createDecompressor(compression);
  return compression === 'zstd' ? [decompressor, new CoalesceChunks()] : [decompressor, handedOnLater()];
}

/**
 * Passes each decompressed piece on from a later turn of the event loop. The decompressor hands a piece on
 * synchronously, so parsing, hashing and writing it ran before the next inflate was queued, and inflating and
 * hashing took turns; handed on later, the thread pool inflates the next pieces (up to 4 MiB ahead) meanwhile.
 * `offline verify` of the import benchmark's bundle: 1.27 -> 1.14 s (medians of 9 interleaved runs, 2 cores). A
 * first import did not change (4.00 vs 4.04 s, medians of 5): there the engine's reading sets the pace.
 */
function handedOnLater(): Transform {
  return new Transform({
    writableHighWaterMark: 4 * 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      setImmediate(callback, null, chunk);
    },
  });
}

/**
 * A decoder or tar error: the archive's bytes are damaged; name the entry they belong to. A damaged tar header
 * is named by the path it holds (the parser reads headers ahead of the entry being handled, so `current` may
 * still be an earlier one); other damage by the entry being read when it was found.
 */
function damaged(
  where: string,
  current: { path: string; done: boolean } | undefined,
  error: unknown,
  hint: string,
): unknown {
  if (error instanceof OfflineError) return error;
  const reason = (error as Error).message ?? String(error);
  const header = (error as { header?: { path?: unknown } }).header?.path;
  if (typeof header === 'string') {
    // Damage may put any bytes where the path was: shown escaped and cut short, never as a file name.
    const readable = /^[\x20-\x7e]{1,255}$/.test(header);
    const shown = JSON.stringify(header.length > 80 ? `${header.slice(0, 80)}...` : header);
    return new OfflineError('EINTEGRITY', `${where}: damaged tar header of ${shown}: ${reason}`, {
      file: readable && header.includes('/') ? stripTop(header) : where,
      hint,
      cause: error,
    });
  }
  const at = !current
    ? 'before its first entry'
    : current.done
      ? `after ${current.path}`
      : `in ${current.path}`;
  return new OfflineError('EINTEGRITY', `${where}: damaged or truncated archive, ${at}: ${reason}`, {
    file: current && !current.done ? stripTop(current.path) : where,
    hint,
    cause: error,
  });
}

/**
 * What to do about damage the decompressor or tar parser found. The sidecar lists every part, so without one a
 * split bundle that breaks off where the parts here end (`endsWithParts`) most likely lacks its later parts.
 */
function damageHint(location: BundleLocation, endsWithParts: boolean): string {
  const last = location.parts.at(-1);
  if (!location.sidecar && endsWithParts && last !== undefined && isPartFile(last)) {
    return `the archive breaks off where ${path.basename(last)} ends: copy its later parts beside it, with ${location.archiveName}.sha256 (which lists them)`;
  }
  if (!location.sidecar)
    return `copy the bundle again, with ${location.archiveName}.sha256 to check the copy`;
  return `copy the bundle again and check it with sha256sum -c ${path.basename(location.sidecar)}`;
}

/** Whether the decompressor or tar parser ran out of input (gzip, zstd, a plain tar), not into bad bytes. */
function cutShort(error: unknown): boolean {
  return /unexpected end of file|premature end|Truncated input/.test((error as Error).message ?? '');
}

function stripTop(entryPath: string): string {
  return entryPath.replace(/^[^/]+\//, '');
}
