import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { resolveInside } from '../fs/safe-path.js';
import { walkFiles } from '../fs/walk.js';
import { hashFile } from './hash-file.js';
import { type ChecksumEntry, formatChecksums, parseChecksums } from './sha256sum-format.js';

export const CHECKSUMS_FILE = 'checksums.sha256';
const HASH_CONCURRENCY = 4;

export interface VerifyOptions {
  /** A file present but not listed is an error unless this is set. */
  allowUnlisted?: boolean;
  /** Files besides the checksum list that are expected to be unlisted (e.g. a report). */
  ignore?: readonly string[];
  onFile?: (entry: ChecksumEntry) => void;
}

export interface VerifyResult {
  ok: boolean;
  /** Files whose size and sha256 matched. */
  verified: ChecksumEntry[];
  problems: OfflineError[];
  notes: string[];
}

/** Hashes every file under dir (the list itself excluded) and writes dir/checksums.sha256 atomically. */
export async function createChecksums(dir: string, listName = CHECKSUMS_FILE): Promise<ChecksumEntry[]> {
  const files = await walkFiles(dir, { exclude: new Set([listName]) });
  const limit = pLimit(HASH_CONCURRENCY);
  const entries = await Promise.all(
    files.map((file) =>
      limit(async () => {
        const digest = await hashFile(file.absolute);
        return { path: file.relative, sha256: digest.sha256, size: digest.size };
      }),
    ),
  );
  await writeStreamAtomic(Readable.from([formatChecksums(entries)]), path.join(dir, listName));
  return entries;
}

/** Reads and parses dir/checksums.sha256; problems in the list are returned, not thrown. */
export async function readChecksums(dir: string, listName = CHECKSUMS_FILE) {
  const listPath = path.join(dir, listName);
  const text = await readFile(listPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new OfflineError('EMISSING', `${listPath}: checksum list not found`, {
        file: listPath,
        hint: `create it with: offline checksum create ${dir}`,
      });
    }
    throw error;
  });
  return parseChecksums(text, listPath);
}

/**
 * Verifies entries against the files under dir and reports every problem at once: EBADSIZE (when a size is
 * known), EINTEGRITY, EMISSING, and EUNLISTED for files nobody listed.
 */
export async function verifyEntries(
  dir: string,
  entries: readonly ChecksumEntry[],
  options: VerifyOptions & { listName?: string } = {},
): Promise<Omit<VerifyResult, 'notes'>> {
  const problems: OfflineError[] = [];
  const verified: ChecksumEntry[] = [];
  const limit = pLimit(HASH_CONCURRENCY);
  await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const file = resolveInside(dir, entry.path, options.listName ?? CHECKSUMS_FILE);
        const info = await stat(file).catch(() => undefined);
        if (!info?.isFile()) {
          problems.push(
            new OfflineError('EMISSING', `${entry.path}: listed but missing`, { file: entry.path }),
          );
          return;
        }
        if (entry.size !== undefined && entry.size !== info.size) {
          problems.push(
            new OfflineError('EBADSIZE', `${entry.path}: size differs`, {
              file: entry.path,
              expected: entry.size,
              found: info.size,
            }),
          );
          return;
        }
        const digest = await hashFile(file);
        if (digest.sha256 !== entry.sha256) {
          problems.push(
            new OfflineError('EINTEGRITY', `${entry.path}: sha256 differs`, {
              file: entry.path,
              expected: entry.sha256,
              found: digest.sha256,
            }),
          );
          return;
        }
        verified.push({ ...entry, size: digest.size });
        options.onFile?.(entry);
      }),
    ),
  );
  if (!options.allowUnlisted) {
    const listed = new Set(entries.map((e) => e.path));
    const skip = new Set([options.listName ?? CHECKSUMS_FILE, ...(options.ignore ?? [])]);
    for (const file of await walkFiles(dir, { exclude: skip })) {
      if (!listed.has(file.relative)) {
        problems.push(
          new OfflineError('EUNLISTED', `${file.relative}: present but not in the checksum list`, {
            file: file.relative,
          }),
        );
      }
    }
  }
  const byPath = (a: { file?: string }, b: { file?: string }) => (a.file ?? '').localeCompare(b.file ?? '');
  problems.sort(byPath);
  verified.sort((a, b) => a.path.localeCompare(b.path));
  return { ok: problems.length === 0, verified, problems };
}

/** Reads dir/checksums.sha256 and verifies the folder against it. */
export async function verifyDirectory(
  dir: string,
  options: VerifyOptions & { listName?: string } = {},
): Promise<VerifyResult> {
  const parsed = await readChecksums(dir, options.listName);
  const result = await verifyEntries(dir, parsed.entries, options);
  const problems = [...parsed.problems, ...result.problems];
  return { ok: problems.length === 0, verified: result.verified, problems, notes: parsed.notes };
}
