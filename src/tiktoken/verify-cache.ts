import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { hashFile } from '../checksum/hash-file.js';
import type { Digest } from '../checksum/hash-stream.js';
import { OfflineError } from '../errors.js';
import { cacheFileName, canonicalUrl, legacyUrl } from './cache-name.js';
import { type CachedFile, cacheEntry, INDEX_FILE } from './prefetch.js';
import { ENCODING_FILES, type EncodingFile } from './registry.js';

type IndexEntry = Omit<CachedFile, 'source'>;

/**
 * Checks a tiktoken cache folder as the libraries will use it: every file index.json lists is present under
 * its sha1-of-URL name with the pinned sha256 (EMISSING, EINTEGRITY, EBADSIZE), and so is every other file
 * under a name tiktoken looks up for a pinned encoding (the sha1 of its URL or of its legacy `az://` URL),
 * listed or not: the libraries read those whatever the index says. Every problem is reported.
 */
export async function verifyTiktokenCache(
  dir: string,
): Promise<{ verified: CachedFile[]; problems: OfflineError[] }> {
  const listed = await readIndex(dir);
  const present = new Set(await readdir(dir));
  const verified: CachedFile[] = [];
  const problems: OfflineError[] = [];
  const checked = new Set<string>();
  const check = async (entry: IndexEntry, want: { sha256: string; size?: number }, what: string) => {
    checked.add(entry.file);
    const digest = await hashFile(path.join(dir, entry.file));
    const problem = mismatch(entry.file, digest, want, what);
    if (problem) problems.push(problem);
    else verified.push({ ...entry, sha256: digest.sha256, size: digest.size, source: 'cache' });
  };
  for (const entry of listed) {
    const pinned = ENCODING_FILES.find((f) => canonicalUrl(f.urlPath) === entry.url);
    const name = cacheFileName(entry.url);
    const what = `${entry.encoding} (${entry.name})`;
    if (!present.has(name)) {
      problems.push(
        new OfflineError('EMISSING', `${path.join(dir, name)}: ${what} missing`, {
          file: name,
        }),
      );
      continue;
    }
    await check({ ...entry, file: name }, pinned ?? { sha256: entry.sha256 }, what);
  }
  for (const { url, file } of pinnedNames()) {
    const entry = cacheEntry(url, file);
    if (checked.has(entry.file) || !present.has(entry.file)) continue;
    await check(entry, file, `${file.encoding} (${file.plainName}, not in ${INDEX_FILE})`);
  }
  return { verified, problems };
}

async function readIndex(dir: string): Promise<IndexEntry[]> {
  const indexPath = path.join(dir, INDEX_FILE);
  try {
    return (JSON.parse(await readFile(indexPath, 'utf8')) as { files: IndexEntry[] }).files;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new OfflineError(
      missing ? 'EMISSING' : 'EMANIFEST',
      `${indexPath}: ${missing ? 'not found' : 'not a valid index'}`,
      {
        file: indexPath,
      },
    );
  }
}

/** Every URL a tiktoken version may look a pinned file up by (its cache name is the sha1 of the URL). */
function pinnedNames(): { url: string; file: EncodingFile }[] {
  return ENCODING_FILES.flatMap((file) => {
    const legacy = legacyUrl(file.urlPath);
    return [canonicalUrl(file.urlPath), ...(legacy ? [legacy] : [])].map((url) => ({ url, file }));
  });
}

/** What is wrong with a file's digest, if anything: the size first (EBADSIZE), then the sha256 (EINTEGRITY). */
function mismatch(
  name: string,
  digest: Digest,
  want: { sha256: string; size?: number },
  what: string,
): OfflineError | undefined {
  if (want.size !== undefined && digest.size !== want.size) {
    return new OfflineError('EBADSIZE', `${name}: ${what} size differs`, {
      file: name,
      expected: want.size,
      found: digest.size,
    });
  }
  if (digest.sha256 !== want.sha256) {
    return new OfflineError('EINTEGRITY', `${name}: ${what} sha256 differs`, {
      file: name,
      expected: want.sha256,
      found: digest.sha256,
    });
  }
  return undefined;
}
