import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { hashFile } from '../checksum/hash-file.js';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { cacheFileName, canonicalUrl } from './cache-name.js';
import { startDeadline } from './deadline.js';
import { downloadVerified } from './download.js';
import { type EncodingFile, filesFor, OPENAI_BASE_URL } from './registry.js';
import { runAll } from './run-all.js';

export const INDEX_FILE = 'index.json';

export interface PrefetchOptions {
  outDir: string;
  /** Encodings, aliases or model names. */
  encodings: readonly string[];
  /** Downloads at once (default 4). */
  concurrency?: number;
  /** A mirror with the same paths (default OFFLINE_TIKTOKEN_BASE_URL, else OpenAI's). */
  baseUrl?: string;
  /** A folder with files already on disk (plain names like cl100k_base.tiktoken, or sha1 names). */
  fromDir?: string;
  /** Idle limit of one download attempt (default 30 s): no byte for this long fails the attempt. */
  requestTimeoutMs?: number;
  /** Overall deadline for the whole prefetch (default 10 min). */
  deadlineMs?: number;
  retries?: number;
  /** Stops every download and removes its temp file; the reason is thrown (an OfflineError naming the file). */
  signal?: AbortSignal;
  /** What a user can do when a download fails (default: the environment variables export reads). */
  hint?: string;
  onProgress?: (file: EncodingFile, bytes: number) => void;
  onEvent?: (message: string) => void;
}

export interface CachedFile {
  encoding: string;
  /** The URL tiktoken asks for; its sha1 is the file name. */
  url: string;
  /** Cache file name (sha1 of url). */
  file: string;
  name: string;
  sha256: string;
  size: number;
  source: 'cache' | 'download' | 'local';
}

/** The index.json entry of a pinned file cached under `url`'s name (the sha1 of the URL). */
export function cacheEntry(url: string, file: EncodingFile): Omit<CachedFile, 'source'> {
  return {
    encoding: file.encoding,
    url,
    file: cacheFileName(url),
    name: file.plainName,
    sha256: file.sha256,
    size: file.size,
  };
}

/** What works where export runs it: the variables it reads (`offline tiktoken fetch` passes its options). */
const DEFAULT_HINT =
  'check the network or proxy (HTTPS_PROXY, NO_PROXY), or set OFFLINE_TIKTOKEN_BASE_URL to a mirror with the same paths, or TIKTOKEN_CACHE_DIR to a folder that holds the files';

const DEFAULT_DEADLINE_MS = 10 * 60_000;

/**
 * Puts the files for the asked encodings into outDir under the names tiktoken and tiktoken-go look up (sha1 of
 * the URL), each verified against its pinned sha256, plus index.json. Files already there and correct are kept
 * (no request); --from files are copied and verified; the rest are downloaded, at most `concurrency` at once.
 * The first failure stops the others and waits for them, so no temp file is left and nothing is written after
 * it is thrown; files already verified and in place stay.
 */
export async function prefetchTiktoken(options: PrefetchOptions): Promise<CachedFile[]> {
  const files = filesFor(options.encodings);
  const baseUrl = (options.baseUrl ?? process.env.OFFLINE_TIKTOKEN_BASE_URL ?? OPENAI_BASE_URL).replace(
    /\/+$/,
    '',
  );
  await mkdir(options.outDir, { recursive: true });
  const local = options.fromDir ? await listDir(options.fromDir) : new Set<string>();
  const deadline = startDeadline(options.deadlineMs ?? DEFAULT_DEADLINE_MS, 'the tiktoken downloads');
  try {
    const results = await runAll(
      files.map((file) => (signal: AbortSignal) => fetchFile(file, { options, baseUrl, local, signal })),
      {
        concurrency: options.concurrency ?? 4,
        signal: options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal,
      },
    );
    await writeIndex(options.outDir, results);
    return results;
  } finally {
    deadline.clear();
  }
}

interface FetchContext {
  options: PrefetchOptions;
  baseUrl: string;
  /** Names in the --from folder. */
  local: Set<string>;
  signal: AbortSignal;
}

/** One file into place: kept if already correct, else copied from --from, else downloaded. */
async function fetchFile(
  file: EncodingFile,
  { options, baseUrl, local, signal }: FetchContext,
): Promise<CachedFile> {
  const url = canonicalUrl(file.urlPath);
  const base = cacheEntry(url, file);
  const name = base.file;
  const dest = path.join(options.outDir, name);
  if (await isCorrect(dest, file)) return { ...base, source: 'cache' };
  const onDisk = [file.plainName, name].find((n) => local.has(n));
  if (onDisk && options.fromDir) {
    const source = path.join(options.fromDir, onDisk);
    await writeStreamAtomic(createReadStream(source, { signal }), dest, {
      expected: { sha256: file.sha256, size: file.size },
      label: `${file.encoding} (${source})`,
    });
    options.onEvent?.(`${file.plainName}: from ${options.fromDir}`);
    return { ...base, source: 'local' };
  }
  await downloadVerified({
    url: `${baseUrl}${file.urlPath}`,
    dest,
    expected: { sha256: file.sha256, size: file.size },
    label: file.encoding,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    retries: options.retries ?? 3,
    signal,
    hint: options.hint ?? DEFAULT_HINT,
    onProgress: (bytes) => options.onProgress?.(file, bytes),
    onRetry: (attempt, reason) => options.onEvent?.(`${file.plainName}: ${reason}, retry ${attempt}`),
  });
  return { ...base, source: 'download' };
}

async function isCorrect(file: string, want: EncodingFile): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile() || info.size !== want.size) return false;
  return (await hashFile(file)).sha256 === want.sha256;
}

async function listDir(dir: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(dir));
  } catch {
    throw new OfflineError('EMISSING', `${dir}: --from folder not found`, { file: dir });
  }
}

/** index.json: encoding -> files with their cache name, plain name, URL and sha256 (for people and verify). */
async function writeIndex(outDir: string, files: CachedFile[]): Promise<void> {
  const index = {
    note: 'Set TIKTOKEN_CACHE_DIR to this folder: tiktoken and tiktoken-go find each file by the sha1 of its URL.',
    files: files.map(({ source: _source, ...rest }) => rest),
  };
  await writeStreamAtomic(
    Readable.from([`${JSON.stringify(index, null, 2)}\n`]),
    path.join(outDir, INDEX_FILE),
  );
}
