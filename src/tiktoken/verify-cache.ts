import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { hashFile } from '../checksum/hash-file.js';
import { OfflineError } from '../errors.js';
import { cacheFileName, canonicalUrl } from './cache-name.js';
import { type CachedFile, INDEX_FILE } from './prefetch.js';
import { ENCODING_FILES } from './registry.js';

/**
 * Checks a tiktoken cache folder as the libraries will use it: every file index.json lists is present under
 * its sha1-of-URL name with the pinned sha256 (EMISSING, EINTEGRITY, EBADSIZE). Every problem is reported.
 */
export async function verifyTiktokenCache(
  dir: string,
): Promise<{ verified: CachedFile[]; problems: OfflineError[] }> {
  const indexPath = path.join(dir, INDEX_FILE);
  let listed: Omit<CachedFile, 'source'>[];
  try {
    listed = (JSON.parse(await readFile(indexPath, 'utf8')) as { files: Omit<CachedFile, 'source'>[] }).files;
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
  const present = new Set(await readdir(dir));
  const verified: CachedFile[] = [];
  const problems: OfflineError[] = [];
  for (const entry of listed) {
    const pinned = ENCODING_FILES.find((f) => canonicalUrl(f.urlPath) === entry.url);
    const name = cacheFileName(entry.url);
    const sha256 = pinned?.sha256 ?? entry.sha256;
    if (!present.has(name)) {
      problems.push(
        new OfflineError('EMISSING', `${path.join(dir, name)}: ${entry.encoding} (${entry.name}) missing`, {
          file: name,
        }),
      );
      continue;
    }
    const digest = await hashFile(path.join(dir, name));
    if (pinned && digest.size !== pinned.size) {
      problems.push(
        new OfflineError('EBADSIZE', `${name}: ${entry.encoding} (${entry.name}) size differs`, {
          file: name,
          expected: pinned.size,
          found: digest.size,
        }),
      );
    } else if (digest.sha256 !== sha256) {
      problems.push(
        new OfflineError('EINTEGRITY', `${name}: ${entry.encoding} (${entry.name}) sha256 differs`, {
          file: name,
          expected: sha256,
          found: digest.sha256,
        }),
      );
    } else {
      verified.push({ ...entry, file: name, sha256, size: digest.size, source: 'cache' });
    }
  }
  return { verified, problems };
}
