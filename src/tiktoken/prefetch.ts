import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { hashFile } from '../checksum/hash-file.js';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { cacheFileName, canonicalUrl } from './cache-name.js';
import { downloadVerified } from './download.js';
import { type EncodingFile, filesFor, OPENAI_BASE_URL } from './registry.js';

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
  requestTimeoutMs?: number;
  /** Overall deadline for the whole prefetch. */
  deadlineMs?: number;
  retries?: number;
  signal?: AbortSignal;
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

/**
 * Puts the files for the asked encodings into outDir under the names tiktoken and tiktoken-go look up (sha1 of
 * the URL), each verified against its pinned sha256, plus index.json. Files already there and correct are kept
 * (no request); --from files are copied and verified; the rest are downloaded, at most `concurrency` at once.
 */
export async function prefetchTiktoken(options: PrefetchOptions): Promise<CachedFile[]> {
  const files = filesFor(options.encodings);
  const baseUrl = (options.baseUrl ?? process.env.OFFLINE_TIKTOKEN_BASE_URL ?? OPENAI_BASE_URL).replace(
    /\/+$/,
    '',
  );
  await mkdir(options.outDir, { recursive: true });
  const deadline = AbortSignal.timeout(options.deadlineMs ?? 10 * 60_000);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const limit = pLimit(options.concurrency ?? 4);
  const local = options.fromDir ? await listDir(options.fromDir) : new Set<string>();

  const results = await Promise.all(
    files.map((file) =>
      limit(async (): Promise<CachedFile> => {
        const url = canonicalUrl(file.urlPath);
        const name = cacheFileName(url);
        const dest = path.join(options.outDir, name);
        const base = {
          encoding: file.encoding,
          url,
          file: name,
          name: file.plainName,
          sha256: file.sha256,
          size: file.size,
        };
        if (await isCorrect(dest, file)) return { ...base, source: 'cache' };
        const onDisk = [file.plainName, name].find((n) => local.has(n));
        if (onDisk && options.fromDir) {
          await writeStreamAtomic(createReadStream(path.join(options.fromDir, onDisk)), dest, {
            expected: { sha256: file.sha256, size: file.size },
            label: `${file.encoding} (${path.join(options.fromDir, onDisk)})`,
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
          onProgress: (bytes) => options.onProgress?.(file, bytes),
          onRetry: (attempt, reason) => options.onEvent?.(`${file.plainName}: ${reason}, retry ${attempt}`),
        });
        return { ...base, source: 'download' };
      }),
    ),
  );
  await writeIndex(options.outDir, results);
  return results;
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
