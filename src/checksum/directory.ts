import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { assertFolderArgument } from '../fs/folder-argument.js';
import { resolveInside } from '../fs/safe-path.js';
import { walkFiles } from '../fs/walk.js';
import { digestProblem } from './digest-problem.js';
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
  await assertFolder(dir);
  const files = await walkFiles(dir, { exclude: new Set([listName]) });
  const limit = pLimit(HASH_CONCURRENCY);
  const entries = await Promise.all(
    files.map((file) =>
      limit(async () => {
        const digest = await hashFile(file.absolute, file.size);
        return { path: file.relative, sha256: digest.sha256, size: digest.size };
      }),
    ),
  );
  await writeStreamAtomic(Readable.from([formatChecksums(entries)]), path.join(dir, listName));
  return entries;
}

/** Reads and parses dir/checksums.sha256; problems in the list are returned, not thrown. */
export async function readChecksums(dir: string, listName = CHECKSUMS_FILE) {
  await assertFolder(dir);
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
  const listName = options.listName ?? CHECKSUMS_FILE;
  // One walk of the folder finds the unlisted files and gives the listed ones' sizes without a stat each.
  const present = new Map<string, number>();
  if (!options.allowUnlisted) {
    const listed = new Set(entries.map((e) => e.path));
    for (const file of await walkFiles(dir, { exclude: new Set([listName, ...(options.ignore ?? [])]) })) {
      present.set(file.relative, file.size);
      if (!listed.has(file.relative)) {
        problems.push(
          new OfflineError('EUNLISTED', `${file.relative}: present but not in the checksum list`, {
            file: file.relative,
          }),
        );
      }
    }
  }
  const limit = pLimit(HASH_CONCURRENCY);
  await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const outcome = await checkEntry(dir, entry, listName, present.get(entry.path));
        if (outcome instanceof OfflineError) {
          problems.push(outcome);
          return;
        }
        verified.push({ ...entry, size: outcome });
        options.onFile?.(entry);
      }),
    ),
  );
  const byPath = (a: { file?: string }, b: { file?: string }) => (a.file ?? '').localeCompare(b.file ?? '');
  problems.sort(byPath);
  verified.sort((a, b) => a.path.localeCompare(b.path));
  return { ok: problems.length === 0, verified, problems };
}

/** The one problem with a listed file (EUNSAFE_PATH, EMISSING, EBADSIZE, EINTEGRITY), or its size when good. */
async function checkEntry(
  dir: string,
  entry: ChecksumEntry,
  listName: string,
  walkedSize: number | undefined,
): Promise<OfflineError | number> {
  let file: string;
  try {
    file = resolveInside(dir, entry.path, listName);
  } catch (error) {
    return error as OfflineError;
  }
  let size = walkedSize;
  if (size === undefined) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      return new OfflineError('EMISSING', `${entry.path}: listed but missing`, { file: entry.path });
    }
    size = info.size;
  }
  // The size first: a file of another size is not read at all.
  const wrongSize = digestProblem({ sha256: '', size }, { size: entry.size }, entry.path);
  if (wrongSize) return wrongSize;
  const digest = await hashFile(file, size).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!digest) return new OfflineError('EMISSING', `${entry.path}: listed but missing`, { file: entry.path });
  const wrongBytes = digestProblem(digest, { sha256: entry.sha256 }, entry.path);
  if (wrongBytes) return wrongBytes;
  return digest.size;
}

/** A folder argument that does not exist (or is a file) is a usage error, not a missing checksum list. */
const assertFolder = (dir: string) =>
  assertFolderArgument(dir, 'give the folder that holds (or is to hold) the checksum list');

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
