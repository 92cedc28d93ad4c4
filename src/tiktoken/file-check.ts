import { stat } from 'node:fs/promises';
import { digestProblem, type Pinned } from '../checksum/digest-problem.js';
import { hashFile } from '../checksum/hash-file.js';
import type { Digest } from '../checksum/hash-stream.js';
import { OfflineError } from '../errors.js';

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
