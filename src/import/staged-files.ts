import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import type { PlannedFile } from './file-plan.js';

/**
 * Files arrive in a hidden staging folder inside the target, each written under its final relative path with
 * its sha256 checked as it is written; commit() moves them into place only after the whole bundle verified,
 * backing up a changed file first (only with --force, see planFiles). discard() leaves the target as it was.
 */
export class StagedFiles {
  readonly dir: string;
  private readonly staged: PlannedFile[] = [];

  constructor(target: string) {
    this.dir = path.join(target, `.offline-import-${randomBytes(6).toString('hex')}`);
  }

  /** Writes one file under the staging folder; returns where it was staged. */
  async write(file: PlannedFile, stream: Readable, executable = false): Promise<string> {
    const dest = path.join(this.dir, ...file.targetPath.split('/'));
    await mkdir(path.dirname(dest), { recursive: true });
    await writeStreamAtomic(stream, dest, {
      expected: { sha256: file.sha256, size: file.size },
      label: file.bundlePath,
    });
    if (executable) await chmod(dest, 0o755);
    this.staged.push(file);
    return dest;
  }

  /** Moves every staged file into place; returns the backups made. */
  async commit(stamp: string): Promise<string[]> {
    const backups: string[] = [];
    for (const file of this.staged) {
      await mkdir(path.dirname(file.absolute), { recursive: true });
      if (file.action === 'replace-changed') {
        const backup = `${file.absolute}.bak-${stamp}`;
        await copyFile(file.absolute, backup);
        backups.push(backup);
      }
      await rename(path.join(this.dir, ...file.targetPath.split('/')), file.absolute);
    }
    await rm(this.dir, { recursive: true, force: true });
    return backups;
  }

  async discard(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
