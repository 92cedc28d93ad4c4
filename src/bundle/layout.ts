/** Paths inside a bundle, relative to its top folder; see docs/bundle-format.md section 2. */
export const MANIFEST_FILE = 'manifest.json';
export const CHECKSUMS_FILE = 'checksums.sha256';
export const README_FILE = 'README.txt';
export const IMPORT_SCRIPT = 'import.sh';
export const IMPORTER_BUNDLE = 'offline.mjs';
/** With export --with-runtime: a Node single executable for the export host's platform. */
export const RUNTIME_EXECUTABLE = 'offline';
export const STACK_DIR = 'stack';
export const TIKTOKEN_DIR = 'tiktoken';
export const IMAGES_ARCHIVE = 'images/images.tar';
export const BUILD_CACHE_ARCHIVE = 'caches/build-cache.tar';

export type Compression = 'gzip' | 'zstd' | 'none';

export const EXTENSIONS: Record<Compression, string> = { gzip: '.tar.gz', zstd: '.tar.zst', none: '.tar' };

/** 4 GiB - 1: the largest file FAT32 holds. */
export const FAT32_MAX_FILE = 4 * 1024 ** 3 - 1;

/** The top folder inside the archive, and the archive's base name without extension. */
export function bundleStem(name: string, version: string): string {
  return `${name}-${version}`;
}

export function archiveFileName(name: string, version: string, compression: Compression): string {
  return `${bundleStem(name, version)}.offline${EXTENSIONS[compression]}`;
}

export function sidecarFileName(archiveName: string): string {
  return `${archiveName}.sha256`;
}

/** part001, part002, ... (more digits when there are more than 999 parts). */
export function partFileName(archiveName: string, index: number, total: number): string {
  const digits = Math.max(3, String(total).length);
  return `${archiveName}.part${String(index + 1).padStart(digits, '0')}`;
}

/** Entry order in the archive: the lists first, the image archive last. */
export function entryRank(relative: string): number {
  if (relative === MANIFEST_FILE) return 0;
  if (relative === CHECKSUMS_FILE) return 1;
  if (relative === README_FILE) return 2;
  if (relative === IMPORT_SCRIPT || relative === IMPORTER_BUNDLE || relative === RUNTIME_EXECUTABLE) return 3;
  if (relative.startsWith(`${STACK_DIR}/`)) return 4;
  if (relative.startsWith(`${TIKTOKEN_DIR}/`)) return 5;
  if (relative === BUILD_CACHE_ARCHIVE) return 6;
  if (relative === IMAGES_ARCHIVE) return 8;
  return 7;
}
