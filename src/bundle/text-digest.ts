import { createHash } from 'node:crypto';

/** sha256 hex of a small in-memory buffer (the two lists at the head of a bundle). */
export function hashText(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
