import { createHash } from 'node:crypto';
import type { EncodingFile } from './registry.js';

/**
 * The file name tiktoken (Python, read_file_cached) and tiktoken-go give a cached download: the hex sha1 of
 * the exact URL string. A file named cl100k_base.tiktoken is found by neither.
 */
export function cacheFileName(url: string): string {
  return createHash('sha1').update(url).digest('hex');
}

/** The URL tiktoken asks for; always the public one, whatever mirror the bytes come from. */
export function canonicalUrl(urlPath: string): string {
  return `https://openaipublic.blob.core.windows.net${urlPath}`;
}

/** The pre-2023 `az://` URL, whose sha1 older tiktoken versions look for. */
export function legacyUrl(urlPath: string): string | undefined {
  return urlPath.startsWith('/encodings/') ? `az://openaipublic${urlPath}` : undefined;
}

/** Every URL a tiktoken version may look a pinned file up by: the canonical one first, then the legacy one. */
export function lookupUrls(urlPath: string): string[] {
  const legacy = legacyUrl(urlPath);
  return [canonicalUrl(urlPath), ...(legacy ? [legacy] : [])];
}

/** The index a cache folder carries beside its files, for people and for `tiktoken verify`. */
export const INDEX_FILE = 'index.json';

/** One file of index.json: a pinned file cached under the sha1 of `url`. */
export interface CacheEntry {
  encoding: string;
  /** The URL tiktoken asks for; its sha1 is the file name. */
  url: string;
  /** Cache file name (sha1 of url). */
  file: string;
  name: string;
  sha256: string;
  size: number;
}

/** The index.json entry of a pinned file cached under `url`'s name (the sha1 of the URL). */
export function cacheEntry(url: string, file: EncodingFile): CacheEntry {
  return {
    encoding: file.encoding,
    url,
    file: cacheFileName(url),
    name: file.plainName,
    sha256: file.sha256,
    size: file.size,
  };
}
