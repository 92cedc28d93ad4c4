import path from 'node:path';
import { OfflineError } from '../errors.js';

/**
 * Checks that `name` is a relative POSIX path that stays inside its root: no absolute path, no drive letter,
 * no `..` segment, no empty or `.` segment, no NUL. Returns it normalised (no `./` prefix).
 * `where` names the manifest or archive the path came from, for the error message.
 */
export function assertSafeRelativePath(name: string, where: string): string {
  const unsafe = (why: string) =>
    new OfflineError('EUNSAFE_PATH', `${where}: unsafe path "${name}": ${why}`, { file: where, found: name });
  if (name.length === 0) throw unsafe('empty path');
  if (name.includes('\0')) throw unsafe('contains a NUL byte');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.startsWith('\\')) {
    throw unsafe('absolute path');
  }
  const trimmed = name.replace(/^(\.\/)+/, '');
  if (trimmed === '') throw unsafe('not a file path');
  const segments = trimmed.split('/');
  for (const segment of segments) {
    if (segment === '..') throw unsafe('climbs out with ".."');
  }
  if (segments.some((s) => s === '' || s === '.')) {
    // "a//b", "a/./b" or a trailing slash: not a plain file path.
    const cleaned = path.posix.normalize(trimmed).replace(/\/$/, '');
    if (cleaned.startsWith('..') || cleaned === '.') throw unsafe('not a file path');
    return cleaned;
  }
  return trimmed;
}

/** Joins a checked relative path onto root and proves the result is still inside root. */
export function resolveInside(root: string, relative: string, where: string): string {
  const safe = assertSafeRelativePath(relative, where);
  const absRoot = path.resolve(root);
  const full = path.resolve(absRoot, ...safe.split('/'));
  if (full !== absRoot && !full.startsWith(absRoot + path.sep)) {
    throw new OfflineError('EUNSAFE_PATH', `${where}: path "${relative}" resolves outside ${absRoot}`, {
      file: where,
      found: relative,
    });
  }
  return full;
}

/** Converts a platform path relative to some root into the POSIX form used in manifests. */
export function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}
