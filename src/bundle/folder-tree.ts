import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { OfflineError } from '../errors.js';
import { toPosix } from '../fs/safe-path.js';

export interface FolderTree {
  /** Regular files by POSIX path under the folder, with size and mode. */
  files: Map<string, { size: number; mode: number }>;
  /**
   * Symbolic links, devices, sockets, FIFOs: never followed, each an EUNSAFE_PATH problem; and folders this
   * user cannot read (a database's data folder a running stack made), each an EINTERNAL problem.
   */
  unsafe: OfflineError[];
}

/**
 * Lists an extracted bundle folder without following anything: lstat only, so a symlinked file or folder
 * (which could point anywhere on the host) is reported, never read through.
 */
export async function listFolderTree(root: string, where: string): Promise<FolderTree> {
  const files: FolderTree['files'] = new Map();
  const unsafe: OfflineError[] = [];
  async function visit(dir: string): Promise<void> {
    const folder = await opendir(dir).catch((error: NodeJS.ErrnoException) => {
      if (dir === root || error.code !== 'EACCES') throw error;
      const relative = toPosix(path.relative(root, dir));
      unsafe.push(
        new OfflineError('EINTERNAL', `${where}: folder "${relative}" cannot be read (${error.code})`, {
          file: relative,
          cause: error,
        }),
      );
      return undefined;
    });
    if (!folder) return;
    for await (const entry of folder) {
      const absolute = path.join(dir, entry.name);
      const relative = toPosix(path.relative(root, absolute));
      const info = await lstat(absolute);
      if (info.isDirectory()) await visit(absolute);
      else if (info.isFile()) files.set(relative, { size: info.size, mode: info.mode });
      else {
        const kind = info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file or folder';
        unsafe.push(
          new OfflineError(
            'EUNSAFE_PATH',
            `${where}: "${relative}" is ${kind}; only regular files and folders are allowed`,
            {
              file: relative,
            },
          ),
        );
      }
    }
  }
  await visit(root);
  return { files, unsafe };
}
