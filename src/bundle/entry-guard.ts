import type { ReadEntry } from 'tar';
import { OfflineError } from '../errors.js';
import { assertSafeRelativePath } from '../fs/safe-path.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

export type GuardedEntry = { kind: 'file' | 'folder'; raw: string; rel: string };

/**
 * Defensive checks on one tar entry of a bundle that came over a USB stick: only regular files and folders,
 * a relative path with no `..`, inside the top folder. Returns the path under the top folder, or throws
 * EUNSAFE_PATH naming the entry. `top` is the bundle's top folder (set from the first entry).
 */
export function guardEntry(entry: ReadEntry, top: string | undefined, where: string): GuardedEntry {
  const raw = entry.path.replace(/\/+$/, '');
  const unsafe = (why: string, found?: string) =>
    new OfflineError('EUNSAFE_PATH', `${where}: entry "${entry.path}" ${why}`, {
      file: entry.path,
      ...(found !== undefined && { found }),
    });
  try {
    assertSafeRelativePath(raw, where);
  } catch (error) {
    throw unsafe(`is refused: ${(error as Error).message.replace(/^.*: /, '')}`);
  }
  const folder = top ?? (raw.split('/')[0] as string);
  if (raw !== folder && !raw.startsWith(`${folder}/`))
    throw unsafe(`is outside the bundle folder "${folder}/"`);
  if (entry.type !== 'Directory' && !FILE_TYPES.has(entry.type)) {
    const target = entry.linkpath ? ` to "${entry.linkpath}"` : '';
    throw unsafe(`is a ${entry.type}${target}; only regular files and folders are allowed`, entry.type);
  }
  return {
    kind: entry.type === 'Directory' ? 'folder' : 'file',
    raw,
    rel: raw === folder ? '' : raw.slice(folder.length + 1),
  };
}
