import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { OfflineError } from '../errors.js';
import { writeIndex } from './cache-index.js';
import { type CacheEntry, cacheEntry, cacheFileName, canonicalUrl, INDEX_FILE } from './cache-name.js';
import { DEADLINE_VARIABLE, formatLimit, parseDuration, startDeadline } from './deadline.js';
import { downloadVerified } from './download.js';
import { checkFile } from './file-check.js';
import { copyFromDir } from './from-dir.js';
import { EXPORT_HINTS, type Hints } from './hints.js';
import { localFileError } from './local-error.js';
import { ENCODING_FILES, type EncodingFile, filesFor, OPENAI_BASE_URL } from './registry.js';
import { runAll } from './run-all.js';
import { removeStaleTemps } from './stale-temps.js';

export interface PrefetchOptions {
  outDir: string;
  /** Encodings, aliases or model names; an empty list is refused (EUSAGE). */
  encodings: readonly string[];
  /** Downloads at once (default 4). */
  concurrency?: number;
  /** A mirror with the same paths (default OFFLINE_TIKTOKEN_BASE_URL, else OpenAI's). */
  baseUrl?: string;
  /**
   * A folder with files already on disk (sha1 names as tiktoken writes them, or plain names like
   * cl100k_base.tiktoken). A file there with other bytes is skipped with a warning.
   */
  fromDir?: string;
  /** Idle limit of one download attempt (default 30 s): no byte for this long fails the attempt. */
  requestTimeoutMs?: number;
  /** Overall deadline for the whole prefetch (default OFFLINE_TIKTOKEN_DEADLINE, else 10 min). */
  deadlineMs?: number;
  retries?: number;
  /** Stops every download and removes its temp file; the reason is thrown (an OfflineError naming the file). */
  signal?: AbortSignal;
  /** What a user can do when a download fails (default: the environment variables export reads). */
  hints?: Hints;
  onProgress?: (file: EncodingFile, bytes: number) => void;
  onEvent?: (message: string) => void;
  /** A file of fromDir skipped, a stale temp file removed (default: onEvent). */
  onWarn?: (message: string) => void;
}

export interface CachedFile extends CacheEntry {
  source: 'cache' | 'download' | 'local';
}

const DEFAULT_DEADLINE_MS = 10 * 60_000;

/**
 * Puts the files for the asked encodings into outDir under the names tiktoken and tiktoken-go look up (sha1 of
 * the URL), each verified against its pinned sha256, plus index.json listing them and every other pinned file
 * already there and correct. Files already there and correct are kept (no request); fromDir files are copied
 * and verified; the rest are downloaded, at most `concurrency` at once. The first failure stops the others and
 * waits for them, so no temp file is left and nothing is written after it is thrown; files already verified
 * and in place stay. Temp files an earlier run killed by force left behind are removed first.
 */
export async function prefetchTiktoken(options: PrefetchOptions): Promise<CachedFile[]> {
  const files = filesFor(options.encodings);
  const baseUrl = (options.baseUrl ?? process.env.OFFLINE_TIKTOKEN_BASE_URL ?? OPENAI_BASE_URL).replace(
    /\/+$/,
    '',
  );
  const deadlineMs = options.deadlineMs ?? deadlineFromEnv();
  await mkdir(options.outDir, { recursive: true }).catch((error: unknown) => {
    throw localFileError(error, `creating ${options.outDir}`) ?? error;
  });
  const warn = options.onWarn ?? options.onEvent;
  const stale = await removeStaleTemps(options.outDir, ourNames(), Math.max(deadlineMs, DEFAULT_DEADLINE_MS));
  for (const name of stale) warn?.(`${path.join(options.outDir, name)}: removed, left by an interrupted run`);
  const present = options.fromDir ? await listDir(options.fromDir) : new Set<string>();
  const hints = options.hints ?? EXPORT_HINTS;
  const deadline = startDeadline(deadlineMs, 'the tiktoken downloads', hints.deadline);
  const context = { options, baseUrl, present, hints, timeLeftMs: deadline.remainingMs };
  try {
    const results = await runAll(
      files.map((file) => (signal: AbortSignal) => fetchFile(file, { ...context, signal })),
      {
        concurrency: options.concurrency ?? 4,
        signal: options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal,
      },
    );
    await writeIndex(options.outDir, await indexEntries(options.outDir, results));
    return results;
  } finally {
    deadline.clear();
  }
}

function deadlineFromEnv(): number {
  const value = process.env[DEADLINE_VARIABLE];
  return value ? parseDuration(value, DEADLINE_VARIABLE) : DEFAULT_DEADLINE_MS;
}

/** The names a prefetch writes in outDir: the pinned files' cache names and the index. */
function ourNames(): Set<string> {
  return new Set([...ENCODING_FILES.map((f) => cacheFileName(canonicalUrl(f.urlPath))), INDEX_FILE]);
}

interface FetchContext {
  options: PrefetchOptions;
  baseUrl: string;
  /** Names in the fromDir folder. */
  present: Set<string>;
  hints: Hints;
  timeLeftMs: () => number;
  signal: AbortSignal;
}

/** One file into place: kept if already correct, else copied from fromDir, else downloaded. */
async function fetchFile(file: EncodingFile, context: FetchContext): Promise<CachedFile> {
  const { options, signal } = context;
  const entry = cacheEntry(canonicalUrl(file.urlPath), file);
  const dest = path.join(options.outDir, entry.file);
  if (!(await checkFile(dest, file, file.encoding)).problem) return { ...entry, source: 'cache' };
  if (options.fromDir) {
    const warn = options.onWarn ?? options.onEvent ?? (() => undefined);
    const source = await copyFromDir(file, {
      dir: options.fromDir,
      present: context.present,
      dest,
      signal,
      warn,
    });
    if (source) {
      options.onEvent?.(`${file.plainName}: from ${source}`);
      return { ...entry, source: 'local' };
    }
  }
  await downloadVerified({
    url: `${context.baseUrl}${file.urlPath}`,
    dest,
    expected: { sha256: file.sha256, size: file.size },
    label: file.encoding,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    retries: options.retries ?? 3,
    signal,
    timeLeftMs: context.timeLeftMs,
    hints: context.hints,
    onProgress: (bytes) => options.onProgress?.(file, bytes),
    onRetry: (attempt, reason, waitMs) =>
      options.onEvent?.(`${file.plainName}: ${reason}, retry ${attempt} in ${formatLimit(waitMs)}`),
  });
  return { ...entry, source: 'download' };
}

/**
 * What index.json lists, in registry order: the files of this run, and the pinned files an earlier run left
 * in dir that are still correct (so fetching one encoding after another keeps both listed).
 */
async function indexEntries(dir: string, fetched: readonly CachedFile[]): Promise<CacheEntry[]> {
  const done = new Set(fetched.map((f) => f.file));
  const listed: CacheEntry[] = [];
  for (const file of ENCODING_FILES) {
    const entry = cacheEntry(canonicalUrl(file.urlPath), file);
    if (done.has(entry.file) || !(await checkFile(path.join(dir, entry.file), file, file.encoding)).problem) {
      listed.push(entry);
    }
  }
  return listed;
}

async function listDir(dir: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(dir));
  } catch {
    throw new OfflineError('EMISSING', `${dir}: --from folder not found`, { file: dir });
  }
}
