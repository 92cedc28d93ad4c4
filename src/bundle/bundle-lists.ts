import { finished } from 'node:stream/promises';
import type { Digest, HashStream } from '../checksum/hash-stream.js';
import { type ChecksumEntry, parseChecksums } from '../checksum/sha256sum-format.js';
import { OfflineError } from '../errors.js';
import { combineProblems } from './combine-errors.js';
import { CHECKSUMS_FILE, MANIFEST_FILE } from './layout.js';
import { type BundleManifest, parseManifest } from './manifest.js';
import type { BundleReadResult } from './reader.js';
import { hashText } from './text-digest.js';

/** The largest manifest.json or checksums.sha256 a reader takes into memory: anything larger is not a bundle's. */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;

export interface BundleLists {
  manifest: BundleManifest;
  checksums: ChecksumEntry[];
  /** What every later entry must be, by path: sha256 from checksums.sha256, size from manifest.json. */
  expected: Map<string, { sha256: string; size: number }>;
  manifestDigest: { sha256: string; size: number };
}

/**
 * Checks the two lists at the head of a bundle against each other (docs/bundle-format.md section 4):
 * manifest.json must match its line in checksums.sha256 before anything in it is trusted; then the lists must
 * name the same files with the same sha256. Since manifest.json is vouched for by checksums.sha256, a
 * disagreement after that means checksums.sha256 is damaged, and the error names it.
 */
export function checkLists(manifestText: Buffer, checksumsText: Buffer): BundleLists {
  const parsed = parseChecksums(checksumsText.toString('utf8'), CHECKSUMS_FILE);
  if (parsed.problems[0]) throw parsed.problems[0];
  const manifestLine = parsed.entries.find((e) => e.path === MANIFEST_FILE);
  const manifestDigest = { sha256: hashText(manifestText), size: manifestText.length };
  if (!manifestLine) {
    throw new OfflineError('EMANIFEST', `${CHECKSUMS_FILE}: has no line for ${MANIFEST_FILE}`, {
      file: CHECKSUMS_FILE,
    });
  }
  if (manifestLine.sha256 !== manifestDigest.sha256) {
    throw new OfflineError(
      'EINTEGRITY',
      `${MANIFEST_FILE}: sha256 differs from its line in ${CHECKSUMS_FILE} (one of the two is damaged)`,
      { file: MANIFEST_FILE, expected: manifestLine.sha256, found: manifestDigest.sha256 },
    );
  }
  const manifest = parseManifest(manifestText.toString('utf8'), MANIFEST_FILE);
  const listed = new Map(parsed.entries.map((e) => [e.path, e.sha256]));
  listed.delete(MANIFEST_FILE);
  const expected = new Map<string, { sha256: string; size: number }>();
  for (const file of manifest.files) {
    const line = listed.get(file.path);
    if (line !== file.sha256) {
      throw new OfflineError(
        'EINTEGRITY',
        line === undefined
          ? `${CHECKSUMS_FILE}: has no line for ${file.path}, which ${MANIFEST_FILE} lists`
          : `${CHECKSUMS_FILE}: its line for ${file.path} differs from ${MANIFEST_FILE}`,
        { file: CHECKSUMS_FILE, expected: file.sha256, found: line ?? 'no line' },
      );
    }
    expected.set(file.path, { sha256: file.sha256, size: file.size });
  }
  for (const path of listed.keys()) {
    if (!expected.has(path)) {
      throw new OfflineError(
        'EINTEGRITY',
        `${CHECKSUMS_FILE}: lists ${path}, which ${MANIFEST_FILE} does not (is the list damaged?)`,
        { file: CHECKSUMS_FILE, found: path },
      );
    }
  }
  return { manifest, checksums: parsed.entries, expected, manifestDigest };
}

/** An entry's bytes against its sha256 in checksums.sha256 and its size in manifest.json: the error, if any. */
export function entryMismatch(
  rel: string,
  want: { sha256: string; size: number },
  found: Digest,
): OfflineError | undefined {
  if (found.sha256 === want.sha256 && found.size === want.size) return undefined;
  return new OfflineError('EINTEGRITY', `${rel}: sha256 differs from ${CHECKSUMS_FILE}`, {
    file: rel,
    expected: want.sha256,
    found: found.sha256,
  });
}

/** EBADSIZE when a file's size (from its tar header or the file system, before it is read) is not manifest.json's. */
export function sizeMismatch(rel: string, want: { size: number }, size: number): OfflineError | undefined {
  if (size === want.size) return undefined;
  return new OfflineError('EBADSIZE', `${rel}: size differs from ${MANIFEST_FILE}`, {
    file: rel,
    expected: want.size,
    found: size,
  });
}

/**
 * Where a read's problems go: thrown at once with failFast (import), else gathered for readOutcome (verify
 * reports every problem).
 */
export function problemSink(failFast: boolean): {
  problems: OfflineError[];
  report: (error: OfflineError) => void;
} {
  const problems: OfflineError[] = [];
  return {
    problems,
    report: (error) => {
      if (failFast) throw error;
      problems.push(error);
    },
  };
}

/** The end of a read: the problems collected (in `where`) thrown together, or what was read and verified. */
export function readOutcome(
  where: string,
  problems: OfflineError[],
  lists: BundleLists,
  verified: BundleReadResult['verified'],
  stoppedBefore: string | undefined,
): BundleReadResult {
  if (problems.length > 0) throw combineProblems(where, problems);
  return {
    manifest: lists.manifest,
    checksums: lists.checksums,
    verified,
    ...(stoppedBefore !== undefined && { stoppedBefore }),
  };
}

/**
 * The handler failed part-way through an entry (the engine refused an image archive, say): the rest of the entry
 * is read and hashed, so that damaged bytes are reported as what they are, the bundle's file with its expected
 * and found sha256 (the engine's own error, "invalid diffID for layer 1", names no file of the bundle). The
 * handler's error stands when the entry is intact, or when its stream can no longer be read (a user's abort
 * destroys it).
 */
export async function damagedInstead(
  error: unknown,
  rel: string,
  want: { sha256: string; size: number },
  hasher: HashStream,
): Promise<unknown> {
  try {
    // Whatever the handler piped it to may have stopped reading; the rest of the entry is only hashed.
    hasher.unpipe();
    hasher.resume();
    await finished(hasher);
  } catch {
    return error;
  }
  const mismatch = entryMismatch(rel, want, hasher.digest);
  if (!mismatch) return error;
  return new OfflineError('EINTEGRITY', mismatch.message, {
    file: rel,
    expected: mismatch.expected,
    found: mismatch.found,
    cause: error,
  });
}
