import type { ProgressFactory } from '../cli/progress-line.js';
import type { BundleLocation } from './locate.js';
import { type BundleReadHandler, type BundleReadResult, type ReadOptions, readBundle } from './reader.js';

/**
 * readBundle with a progress line (when `progress` makes one: Output.progress) for the bytes read from the
 * media, out of the archive's size on disk; the line goes when the read ends, however it ends.
 */
export async function readBundleWithProgress(
  progress: ProgressFactory | undefined,
  location: BundleLocation,
  handler: BundleReadHandler = {},
  options: Omit<ReadOptions, 'onBytes'> = {},
): Promise<BundleReadResult> {
  const line = progress?.(location.archiveName, location.bytes);
  if (!line) return readBundle(location, handler, options);
  try {
    return await readBundle(location, handler, { ...options, onBytes: (bytes) => line.update(bytes) });
  } finally {
    line.done();
  }
}
