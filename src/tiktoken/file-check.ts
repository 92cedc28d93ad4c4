import { stat } from 'node:fs/promises';
import { hashFile } from '../checksum/hash-file.js';
import type { Digest } from '../checksum/hash-stream.js';
import { OfflineError } from '../errors.js';

/** What a file must be: its sha256, and its size where known. */
export interface Pinned {
  sha256: string;
  size?: number;
}

/** What is wrong with a digest, if anything: the size first (EBADSIZE), then the sha256 (EINTEGRITY). */
export function digestProblem(
  digest: Digest,
  want: Pinned,
  file: string,
  what: string,
): OfflineError | undefined {
  if (want.size !== undefined && digest.size !== want.size) {
    return new OfflineError('EBADSIZE', `${file}: ${what} size differs`, {
      file,
      expected: want.size,
      found: digest.size,
    });
  }
  if (digest.sha256 !== want.sha256) {
    return new OfflineError('EINTEGRITY', `${file}: ${what} sha256 differs`, {
      file,
      expected: want.sha256,
      found: digest.sha256,
    });
  }
  return undefined;
}

/**
 * Hashes a file and checks it against what it must be; problems name it `shownAs`. A file of the wrong size is
 * not read at all; one that is not there, or not a file, is EMISSING.
 */
export async function checkFile(
  filePath: string,
  want: Pinned,
  what: string,
  shownAs: string = filePath,
): Promise<{ digest?: Digest; problem?: OfflineError }> {
  const info = await stat(filePath).catch(() => undefined);
  if (!info?.isFile()) {
    return { problem: new OfflineError('EMISSING', `${filePath}: ${what} missing`, { file: shownAs }) };
  }
  if (want.size !== undefined && info.size !== want.size) {
    const digest = { sha256: '', size: info.size };
    return { digest, problem: digestProblem(digest, want, shownAs, what) };
  }
  const digest = await hashFile(filePath, info.size);
  const problem = digestProblem(digest, want, shownAs, what);
  return problem ? { digest, problem } : { digest };
}
