import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Pinned } from '../checksum/digest-problem.js';
import { OfflineError } from '../errors.js';
import { assertFolderArgument } from '../fs/folder-argument.js';
import { readIndex } from './cache-index.js';
import {
  type CacheEntry,
  cacheEntry,
  cacheFileName,
  canonicalUrl,
  INDEX_FILE,
  lookupUrls,
} from './cache-name.js';
import { checkFile } from './file-check.js';
import type { CachedFile } from './prefetch.js';
import { ENCODING_FILES } from './registry.js';

/**
 * Checks a tiktoken cache folder as the libraries will use it: every file index.json lists is present under
 * its sha1-of-URL name with the pinned sha256 (EMISSING, EINTEGRITY, EBADSIZE), and so is every other file
 * under a name tiktoken looks up for a pinned encoding (the sha1 of its URL or of its legacy `az://` URL),
 * listed or not: the libraries read those whatever the index says. A folder with no index.json (one tiktoken
 * filled itself) is checked by those names alone; one with neither is EMISSING. Every problem is reported.
 */
export async function verifyTiktokenCache(
  dir: string,
): Promise<{ verified: CachedFile[]; problems: OfflineError[] }> {
  await assertFolderArgument(
    dir,
    'give the folder `offline tiktoken fetch --out` wrote, or TIKTOKEN_CACHE_DIR',
  );
  const listed = await readIndex(dir);
  const present = new Set(await readdir(dir));
  const verified: CachedFile[] = [];
  const problems: OfflineError[] = [];
  const checked = new Set<string>();
  const check = async (entry: CacheEntry, want: Pinned, what: string) => {
    checked.add(entry.file);
    const { digest, problem } = await checkFile(path.join(dir, entry.file), want, what, entry.file);
    if (problem) problems.push(problem);
    else if (digest) verified.push({ ...entry, sha256: digest.sha256, size: digest.size, source: 'cache' });
  };
  for (const entry of listed ?? []) {
    const pinned = ENCODING_FILES.find((f) => canonicalUrl(f.urlPath) === entry.url);
    await check(
      { ...entry, file: cacheFileName(entry.url) },
      pinned ?? { sha256: entry.sha256 },
      `${entry.encoding} (${entry.name})`,
    );
  }
  const unlisted = listed ? `, not in ${INDEX_FILE}` : '';
  for (const file of ENCODING_FILES) {
    for (const url of lookupUrls(file.urlPath)) {
      const entry = cacheEntry(url, file);
      if (checked.has(entry.file) || !present.has(entry.file)) continue;
      await check(entry, file, `${file.encoding} (${file.plainName}${unlisted})`);
    }
  }
  if (!listed && checked.size === 0) {
    problems.push(
      new OfflineError('EMISSING', `${dir}: no ${INDEX_FILE} and no tiktoken cache file`, { file: dir }),
    );
  }
  return { verified, problems };
}
