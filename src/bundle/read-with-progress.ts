import type { Output } from '../cli/output.js';
import { type BundleLocation, mediaBytes } from './locate.js';
import { type BundleReadHandler, type BundleReadResult, type ReadOptions, readBundle } from './reader.js';

/**
 * readBundle with a progress line on the output (when it has one) for the bytes read from the media, out of
 * the archive's size on disk; the line goes when the read ends, however it ends.
 */
export async function readBundleWithProgress(
  output: Output,
  location: BundleLocation,
  handler: BundleReadHandler = {},
  options: Omit<ReadOptions, 'onBytes'> = {},
): Promise<BundleReadResult> {
  const progress = output.progress?.(location.archiveName, await mediaBytes(location));
  if (!progress) return readBundle(location, handler, options);
  try {
    return await readBundle(location, handler, { ...options, onBytes: (bytes) => progress.update(bytes) });
  } finally {
    progress.done();
  }
}
