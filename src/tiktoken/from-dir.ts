import { createReadStream } from 'node:fs';
import path from 'node:path';
import { isOfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { cacheFileName, lookupUrls } from './cache-name.js';
import { localFileError } from './local-error.js';
import type { EncodingFile } from './registry.js';

/**
 * The names a pinned file may have in a folder of files already on disk (--from, or a TIKTOKEN_CACHE_DIR that
 * tiktoken filled), in the order tried: the sha1 names tiktoken writes (of the URL, then of the legacy URL),
 * then the plain name, which is only a guess.
 */
export function localNames(file: EncodingFile): string[] {
  return [...lookupUrls(file.urlPath).map(cacheFileName), file.plainName];
}

/**
 * Copies the first of the folder's candidates that is the pinned file to dest, verified as it is written. A
 * candidate with other bytes, or that cannot be read, is skipped with a warning. Returns the source copied, or
 * undefined when none was right (the caller downloads then).
 */
export async function copyFromDir(
  file: EncodingFile,
  context: {
    dir: string;
    present: ReadonlySet<string>;
    dest: string;
    signal: AbortSignal;
    warn: (m: string) => void;
  },
): Promise<string | undefined> {
  const { dir, present, dest, signal, warn } = context;
  for (const name of localNames(file).filter((n) => present.has(n))) {
    const source = path.join(dir, name);
    try {
      await writeStreamAtomic(createReadStream(source, { signal }), dest, {
        expected: { sha256: file.sha256, size: file.size },
        label: source,
      });
      return source;
    } catch (error) {
      if (signal.aborted) throw error;
      if (isOfflineError(error, 'EBADSIZE') || isOfflineError(error, 'EINTEGRITY')) {
        warn(`${source}: not the pinned ${file.plainName} (${error.code}), skipped`);
        continue;
      }
      if ((error as NodeJS.ErrnoException).path === source) {
        warn(`${source}: cannot be read (${(error as NodeJS.ErrnoException).code}), skipped`);
        continue;
      }
      throw localFileError(error, `${file.encoding}: writing ${dest}`) ?? error;
    }
  }
  return undefined;
}
