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
}

/**
 * Every regular file under root (symlinks to files are followed, as sha256sum does), sorted by the bytes of
 * their relative path so that manifests and archives come out the same on every machine.
 */
export async function walkFiles(root: string, options: WalkOptions = {}): Promise<WalkedFile[]> {
  const files: WalkedFile[] = [];
  async function visit(dir: string): Promise<void> {
    for await (const entry of await opendir(dir)) {
      const absolute = path.join(dir, entry.name);
      const relative = toPosix(path.relative(root, absolute));
      if (options.exclude?.has(relative)) continue;
      if (entry.isDirectory()) {
        await visit(absolute);
        continue;
      }
      const info = entry.isSymbolicLink()
        ? await stat(absolute).catch(() => undefined)
        : await stat(absolute);
      if (info?.isFile()) {
        files.push({ relative, absolute, size: info.size });
      } else if (info?.isDirectory()) {
        await visit(absolute);
      } else {
        throw new OfflineError(
          'EUNSAFE_PATH',
          `${absolute}: not a regular file (device, socket or broken link)`,
          {
            file: absolute,
          },
        );
      }
    }
  }
  await visit(root);
  return files.sort((a, b) => Buffer.compare(Buffer.from(a.relative), Buffer.from(b.relative)));
}
