import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { type CacheEntry, INDEX_FILE } from './cache-name.js';
import { localFileError } from './local-error.js';

const NOTE =
  'Set TIKTOKEN_CACHE_DIR to this folder: tiktoken and tiktoken-go find each file by the sha1 of its URL.';

/** index.json: encoding -> files with their cache name, plain name, URL and sha256 (for people and verify). */
export async function writeIndex(dir: string, files: readonly CacheEntry[]): Promise<void> {
  const index = { note: NOTE, files };
  const indexPath = path.join(dir, INDEX_FILE);
  await writeStreamAtomic(Readable.from([`${JSON.stringify(index, null, 2)}\n`]), indexPath).catch(
    (error: unknown) => {
      throw localFileError(error, `writing ${indexPath}`) ?? error;
    },
  );
}

/** The files a folder's index.json lists; undefined when it has none, EMANIFEST when it is not an index. */
export async function readIndex(dir: string): Promise<CacheEntry[] | undefined> {
  const indexPath = path.join(dir, INDEX_FILE);
  let text: string;
  try {
    text = await readFile(indexPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw localFileError(error, `reading ${indexPath}`) ?? error;
  }
  const files = parse(text)?.files;
  if (!Array.isArray(files) || !files.every(isEntry)) {
    throw new OfflineError('EMANIFEST', `${indexPath}: not a valid index`, {
      file: indexPath,
      expected: '{"files": [{"encoding", "url", "name", "sha256"}...]}',
    });
  }
  return files;
}

function parse(text: string): { files?: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function isEntry(value: unknown): value is CacheEntry {
  const entry = value as Partial<Record<keyof CacheEntry, unknown>> | null;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    ['encoding', 'url', 'name', 'sha256'].every((key) => typeof entry[key as keyof CacheEntry] === 'string')
  );
}
