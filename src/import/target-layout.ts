import path from 'node:path';
import { entryRank, STACK_DIR, TIKTOKEN_DIR } from '../bundle/layout.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { OfflineError } from '../errors.js';
import { assertSafeRelativePath, resolveInside } from '../fs/safe-path.js';

/** Bundle entries that are image archives: they go to the engine, not to disk. */
export function isImageArchive(bundlePath: string): boolean {
  return bundlePath.startsWith('images/') || bundlePath.startsWith('caches/');
}

/**
 * Where a bundle file lands under the target folder: the stack's files at its top (so the compose file's
 * relative paths work), the tiktoken cache in tiktoken/, the bundle's own files (README, importers, manifest)
 * in .offline/.
 */
export function targetPathFor(bundlePath: string): string {
  if (bundlePath.startsWith(`${STACK_DIR}/`)) return bundlePath.slice(STACK_DIR.length + 1);
  if (isCache(bundlePath)) return bundlePath;
  return path.posix.join('.offline', bundlePath);
}

/** A bundle file of the tiktoken cache. */
export function isCache(bundlePath: string): boolean {
  return bundlePath.startsWith(`${TIKTOKEN_DIR}/`);
}

/**
 * Where a bundle file the manifest names elsewhere (its env template, its compose file) was placed under the
 * target: it must be a file the manifest lists and this import places (so it was verified), and resolve
 * inside the target. EUNSAFE_PATH naming it otherwise (`what` says which field named it).
 */
export function placedFile(
  manifest: BundleManifest,
  bundlePath: string,
  target: string,
  what: string,
): string {
  const where = `manifest.json ${what}`;
  assertSafeRelativePath(bundlePath, where);
  if (isImageArchive(bundlePath) || !manifest.files.some((f) => f.path === bundlePath)) {
    throw new OfflineError('EUNSAFE_PATH', `${where}: "${bundlePath}" is not a file the bundle lists`, {
      file: where,
      found: bundlePath,
    });
  }
  return resolveInside(target, targetPathFor(bundlePath), where);
}

export const REPORT_FILE = 'import-report.json';
export const ENV_FILE = '.env';

/** The manifest of the last bundle imported, kept for `offline rebuild` (its build caches and services). */
export const MANIFEST_COPY = '.offline/manifest.json';

/**
 * The image archive that comes last in the bundle (images/images.tar, after caches/build-cache.tar; see
 * docs/bundle-format.md section 2), whatever order the manifest lists them in: only before the last entry can
 * a read stop with nothing left unread.
 */
export function lastArchive(manifest: BundleManifest): string | undefined {
  return manifest.archives
    .map((a) => a.path)
    .sort((a, b) => entryRank(a) - entryRank(b))
    .at(-1);
}
