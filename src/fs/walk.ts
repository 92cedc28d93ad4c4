import type { Stats } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { OfflineError } from '../errors.js';
import { toPosix } from './safe-path.js';

export interface WalkedFile {
  /** POSIX path relative to the root. */
  relative: string;
  absolute: string;
  size: number;
}

export interface WalkOptions {
  /** Relative POSIX paths to leave out (e.g. the manifest itself). */
  exclude?: ReadonlySet<string>;
  /**
   * Entries to leave out without looking at them: a skipped folder is not entered, a skipped link not followed,
   * so what lies there (a broken link, a FIFO) does not matter. Asked before any stat; `directory` is true for
   * a real folder, false for anything else (a link to a folder included).
   */
  skip?: (relative: string, directory: boolean) => boolean;
  /**
   * A broken link, device, FIFO or socket fails the walk (EUNSAFE_PATH) unless this returns true for its path:
   * then it is left out (say, because nothing would take it anyway).
   */
  leaveOut?: (relative: string) => boolean;
}

/**
 * Every regular file under root (symlinks to files and folders are followed, as sha256sum does), sorted by the
 * bytes of their relative path so that manifests and archives come out the same on every machine. A link back
 * to a folder the walk is inside (a/up -> ..) is a symbolic link loop: EUNSAFE_PATH, or left out with leaveOut.
 */
export async function walkFiles(root: string, options: WalkOptions = {}): Promise<WalkedFile[]> {
  const files: WalkedFile[] = [];
  // device:inode of each folder the walk is inside (root down to the current one), with its path.
  const inside = new Map<string, string>();
  const folderKey = (info: Stats) => `${info.dev}:${info.ino}`;
  async function visit(dir: string, dirInfo: Stats): Promise<void> {
    inside.set(folderKey(dirInfo), dir);
    for await (const entry of await opendir(dir)) {
      const absolute = path.join(dir, entry.name);
      const relative = toPosix(path.relative(root, absolute));
      if (options.exclude?.has(relative)) continue;
      if (options.skip?.(relative, entry.isDirectory())) continue;
      if (entry.isDirectory()) {
        await visit(absolute, await stat(absolute));
        continue;
      }
      const info = entry.isSymbolicLink()
        ? await stat(absolute).catch(() => undefined)
        : await stat(absolute);
      const loop = info?.isDirectory() ? inside.get(folderKey(info)) : undefined;
      if (info?.isFile()) {
        files.push({ relative, absolute, size: info.size });
      } else if (info?.isDirectory() && loop === undefined) {
        await visit(absolute, info);
      } else if (!options.leaveOut?.(relative)) {
        throw new OfflineError(
          'EUNSAFE_PATH',
          loop === undefined
            ? `${absolute}: not a regular file (device, socket or broken link)`
            : `${absolute}: symbolic link loop (it leads back to ${loop}, which holds it)`,
          { file: absolute },
        );
      }
    }
    inside.delete(folderKey(dirInfo));
  }
  await visit(root, await stat(root));
  return files.sort((a, b) => Buffer.compare(Buffer.from(a.relative), Buffer.from(b.relative)));
}
