import { OfflineError } from '../errors.js';
import type { Digest } from './hash-stream.js';

/** What bytes must be: their sha256 and their size, each where known. */
export interface Pinned {
  sha256?: string;
  size?: number;
}

/**
 * What is wrong with a digest, if anything: the size first (EBADSIZE), then the sha256 (EINTEGRITY), each with
 * the expected and found values. Messages read `<file>: [what ]size differs`.
 */
export function digestProblem(
  digest: Digest,
  want: Pinned,
  file: string,
  what?: string,
): OfflineError | undefined {
  const of = what ? `${what} ` : '';
  if (want.size !== undefined && digest.size !== want.size) {
    return new OfflineError('EBADSIZE', `${file}: ${of}size differs`, {
      file,
      expected: want.size,
      found: digest.size,
    });
  }
  if (want.sha256 !== undefined && digest.sha256 !== want.sha256) {
    return new OfflineError('EINTEGRITY', `${file}: ${of}sha256 differs`, {
      file,
      expected: want.sha256,
      found: digest.sha256,
    });
  }
  return undefined;
}
