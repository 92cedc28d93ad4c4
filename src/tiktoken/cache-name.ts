import { createHash } from 'node:crypto';

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
