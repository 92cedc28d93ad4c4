import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { type Digest, HashStream } from '../checksum/hash-stream.js';
import { type ChecksumEntry, parseChecksums } from '../checksum/sha256sum-format.js';
import { OfflineError } from '../errors.js';
import { assertSafeRelativePath } from '../fs/safe-path.js';
import { createDecompressor } from './compress.js';
import { CHECKSUMS_FILE, MANIFEST_FILE } from './layout.js';
import type { BundleLocation } from './locate.js';
import { type BundleManifest, parseManifest } from './manifest.js';
import { openParts } from './parts-stream.js';
import { hashText } from './text-digest.js';

export interface BundleEntry {
  /** Path under the bundle's top folder. */
  path: string;
  size: number;
  expected: { sha256: string; size?: number };
  /** The entry's bytes; the reader hashes them as they flow. The handler must read it to its end. */
  stream: Readable;
}

export interface BundleReadHandler {
  /** Called once manifest.json and checksums.sha256 are read and manifest.json is proven by its checksum. */
  onLists?(manifest: BundleManifest, checksums: ChecksumEntry[]): Promise<void> | void;
  /** Return true to stop reading before this entry (e.g. the image archive when every image is present). */
  stopBefore?(path: string): boolean;
  onEntry?(entry: BundleEntry): Promise<void>;
  /** Called after an entry's bytes matched its sha256. */
  onEntryVerified?(path: string, digest: Digest): Promise<void> | void;
}

export interface ReadOptions {
  /** Stop at the first problem (import) or go on and report them all (verify). Default true. */
  failFast?: boolean;
  signal?: AbortSignal;
  /** Bytes read from the media so far. */
  onBytes?: (bytes: number) => void;
}

export interface BundleReadResult {
  manifest: BundleManifest;
  checksums: ChecksumEntry[];
  /** Entries whose size and sha256 matched, in archive order. */
  verified: (ChecksumEntry & { size: number })[];
  /** Set when the handler stopped the read before this entry. */
  stoppedBefore?: string;
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const MAX_LIST_BYTES = 64 * 1024 * 1024;

/**
 * Reads a bundle from the media exactly once: parts joined and checked against the sidecar, decompressed, and
 * each tar entry checked defensively (files and folders only, no absolute path, no `..`, nothing outside the
 * top folder), hashed while it flows to the handler, and compared with checksums.sha256 and manifest.json's
 * sizes. Throws the first problem (failFast) or all of them at the end, each with its code and file.
 */
export async function readBundle(
  location: BundleLocation,
  handler: BundleReadHandler = {},
  options: ReadOptions = {},
): Promise<BundleReadResult> {
  const failFast = options.failFast ?? true;
  const where = location.archiveName;
  const problems: OfflineError[] = [];
  const verified: BundleReadResult['verified'] = [];
  const lists: { manifest?: BundleManifest; checksums?: ChecksumEntry[]; manifestText?: Buffer } = {};
  const expected = new Map<string, { sha256: string; size?: number }>();
  const seen = new Set<string>();
  let top: string | undefined;
  let current = '';
  let stoppedBefore: string | undefined;
  let fatal: unknown;
  const controller = new AbortController();
  const stop = (reason?: unknown) => {
    if (reason !== undefined && fatal === undefined) fatal = reason;
    controller.abort();
  };
  options.signal?.addEventListener('abort', () => stop(options.signal?.reason), { once: true });

  const problem = (error: OfflineError) => {
    if (failFast) throw error;
    problems.push(error);
  };

  async function handleEntry(entry: tar.ReadEntry): Promise<void> {
    current = entry.path;
    const raw = entry.path.replace(/\/+$/, '');
    try {
      assertSafeRelativePath(raw, where);
    } catch (error) {
      entry.resume();
      return problem(error as OfflineError);
    }
    top ??= raw.split('/')[0];
    if (raw !== top && !raw.startsWith(`${top}/`)) {
      entry.resume();
      return problem(
        new OfflineError('EUNSAFE_PATH', `${where}: entry "${raw}" is outside the bundle folder "${top}/"`, {
          file: raw,
        }),
      );
    }
    const rel = raw.slice((top as string).length + 1);
    if (entry.type === 'Directory') {
      entry.resume();
      return;
    }
    if (!FILE_TYPES.has(entry.type)) {
      entry.resume();
      return problem(
        new OfflineError(
          'EUNSAFE_PATH',
          `${where}: entry "${raw}" is a ${entry.type}; only files and folders are allowed`,
          {
            file: rel,
            found: entry.type,
          },
        ),
      );
    }
    if (!lists.checksums) return readList(entry, rel);
    if (handler.stopBefore?.(rel)) {
      stoppedBefore = rel;
      entry.resume();
      stop();
      return;
    }
    if (seen.has(rel)) {
      entry.resume();
      return problem(
        new OfflineError('EUNSAFE_PATH', `${where}: "${rel}" appears twice in the archive`, { file: rel }),
      );
    }
    seen.add(rel);
    const want = expected.get(rel);
    if (!want) {
      entry.resume();
      return problem(
        new OfflineError('EUNLISTED', `${rel}: in the archive but not in ${CHECKSUMS_FILE}`, { file: rel }),
      );
    }
    if (want.size !== undefined && want.size !== entry.size) {
      entry.resume();
      return problem(
        new OfflineError('EBADSIZE', `${rel}: size differs from ${MANIFEST_FILE}`, {
          file: rel,
          expected: want.size,
          found: entry.size,
        }),
      );
    }
    const hasher = new HashStream();
    entry.pipe(hasher);
    if (handler.onEntry) {
      await handler.onEntry({ path: rel, size: entry.size, expected: want, stream: hasher });
    }
    hasher.resume();
    await finished(hasher);
    const digest = hasher.digest;
    if (digest.sha256 !== want.sha256) {
      return problem(
        new OfflineError('EINTEGRITY', `${rel}: sha256 differs`, {
          file: rel,
          expected: want.sha256,
          found: digest.sha256,
        }),
      );
    }
    verified.push({ path: rel, sha256: digest.sha256, size: digest.size });
    await handler.onEntryVerified?.(rel, digest);
  }

  async function readList(entry: tar.ReadEntry, rel: string): Promise<void> {
    const want = lists.manifestText === undefined ? MANIFEST_FILE : CHECKSUMS_FILE;
    if (rel !== want) {
      entry.resume();
      throw new OfflineError(
        'EFORMAT',
        `${where}: not an offline bundle (entry ${lists.manifestText ? 2 : 1} is "${rel}", expected "${want}")`,
        {
          file: where,
          expected: want,
          found: rel,
        },
      );
    }
    if (entry.size > MAX_LIST_BYTES) {
      entry.resume();
      throw new OfflineError('EFORMAT', `${where}: ${rel} is ${entry.size} bytes, too large for a list`, {
        file: rel,
      });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks);
    if (want === MANIFEST_FILE) {
      lists.manifestText = text;
      return;
    }
    const parsed = parseChecksums(text.toString('utf8'), CHECKSUMS_FILE);
    if (parsed.problems[0]) throw parsed.problems[0];
    const manifestLine = parsed.entries.find((e) => e.path === MANIFEST_FILE);
    const manifestDigest = hashText(lists.manifestText as Buffer);
    if (!manifestLine) {
      throw new OfflineError('EMISSING', `${CHECKSUMS_FILE}: has no line for ${MANIFEST_FILE}`, {
        file: CHECKSUMS_FILE,
      });
    }
    if (manifestLine.sha256 !== manifestDigest) {
      throw new OfflineError('EINTEGRITY', `${MANIFEST_FILE}: sha256 differs from ${CHECKSUMS_FILE}`, {
        file: MANIFEST_FILE,
        expected: manifestLine.sha256,
        found: manifestDigest,
      });
    }
    const manifest = parseManifest((lists.manifestText as Buffer).toString('utf8'), MANIFEST_FILE);
    const sizes = new Map(manifest.files.map((f) => [f.path, f]));
    for (const line of parsed.entries) {
      if (line.path === MANIFEST_FILE) continue;
      const file = sizes.get(line.path);
      if (file && file.sha256 !== line.sha256) {
        throw new OfflineError(
          'EMANIFEST',
          `${line.path}: ${MANIFEST_FILE} and ${CHECKSUMS_FILE} disagree on its sha256`,
          {
            file: line.path,
            expected: line.sha256,
            found: file.sha256,
          },
        );
      }
      expected.set(line.path, { sha256: line.sha256, ...(file && { size: file.size }) });
    }
    verified.push({
      path: MANIFEST_FILE,
      sha256: manifestDigest,
      size: (lists.manifestText as Buffer).length,
    });
    lists.manifest = manifest;
    lists.checksums = parsed.entries;
    await handler.onLists?.(manifest, parsed.entries);
  }

  let chain: Promise<void> = Promise.resolve();
  const parser = new tar.Parser({ strict: true });
  parser.on('entry', (entry: tar.ReadEntry) => {
    chain = chain
      .then(() => {
        if (!controller.signal.aborted) return handleEntry(entry);
        entry.resume();
      })
      .catch((error) => {
        entry.resume();
        stop(error);
      });
  });

  try {
    await pipeline(openParts(location, options.onBytes), createDecompressor(location.compression), parser, {
      signal: controller.signal,
    });
  } catch (error) {
    if (!controller.signal.aborted) fatal ??= damaged(where, current, error);
  }
  await chain;
  if (fatal !== undefined) throw fatal;
  if (!lists.manifest || !lists.checksums) {
    throw new OfflineError(
      'EFORMAT',
      `${where}: not an offline bundle (no ${MANIFEST_FILE} and ${CHECKSUMS_FILE} at its start)`,
      {
        file: where,
      },
    );
  }
  if (stoppedBefore === undefined) {
    for (const path of expected.keys()) {
      if (!seen.has(path))
        problem(
          new OfflineError('EMISSING', `${path}: listed in ${CHECKSUMS_FILE} but not in the archive`, {
            file: path,
          }),
        );
    }
  }
  if (problems.length > 0) {
    const first = problems[0] as OfflineError;
    throw new OfflineError(first.code, `${where}: ${problems.length} problem(s), first: ${first.message}`, {
      file: where,
      problems,
    });
  }
  return {
    manifest: lists.manifest,
    checksums: lists.checksums,
    verified,
    ...(stoppedBefore !== undefined && { stoppedBefore }),
  };
}

function damaged(where: string, current: string, error: unknown): unknown {
  if (error instanceof OfflineError) return error;
  const reason = (error as Error).message ?? String(error);
  return new OfflineError(
    'EFORMAT',
    `${where}: damaged or truncated archive${current ? ` (while reading ${current})` : ''}: ${reason}`,
    {
      file: current || where,
      hint: 'copy the bundle again and check it with sha256sum -c <archive>.sha256',
      cause: error,
    },
  );
}
