import { randomBytes } from 'node:crypto';
import {
  constants,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { makeWorkFolder } from '../fs/output-folder.js';
import { removeEmptyFolders } from '../fs/remove-empty.js';
import type { PlannedFile } from './file-plan.js';

/** A file to move into the target at commit. */
interface Move {
  staged: string;
  dest: string;
  /** A user's changed file (replaced with --force): copied to dest.bak-<stamp> first. */
  backup: boolean;
  /** Never replaces an existing file (a .env is the user's once it exists). */
  onlyIfAbsent: boolean;
}

/** What commit did for one move, so that a rollback can undo exactly that. */
interface Placed {
  dest: string;
  /** The first folder commit had to create for it. */
  madeDir?: string;
  backup?: string;
  /** The file dest held before, kept (a hard link) under the staging folder. */
  previous?: string;
  moved?: boolean;
}

/**
 * Files arrive in a hidden staging folder inside the target, each written under its final relative path with
 * its sha256 checked as it is written; so do the files the import makes itself (its report, a .env). commit()
 * moves them all into place only after the whole bundle verified, backing up a changed file first (only with
 * --force, see planFiles): all or none, since a commit that fails part-way puts back every file it replaced and
 * removes every file it added. discard() removes the staging folder (and what commit kept to roll back with).
 */
export class StagedFiles {
  readonly dir: string;
  private readonly moves: Move[] = [];
  private placed: Placed[] = [];
  /** The earlier content of files a rollback could not put back: discard() leaves them. */
  private readonly keep = new Set<string>();
  /** Folders this run has made sure of (staging and target): each is made once, not for every file in it. */
  private readonly folders = new Set<string>();

  constructor(private readonly target: string) {
    this.dir = path.join(target, `.offline-import-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Makes the staging folder: the first write in the target, so a target that cannot be written (read-only
   * media, another user's folder) is one EUSAGE naming it and `option`, before any work.
   */
  async create(option: string): Promise<void> {
    await makeWorkFolder(this.dir, option);
  }

  /** Writes one bundle file under the staging folder; returns where it was staged. */
  async write(file: PlannedFile, stream: Readable, executable = false): Promise<string> {
    const staged = path.join(this.dir, 'files', ...file.targetPath.split('/'));
    this.makeFolder(path.dirname(staged));
    await writeStreamAtomic(stream, staged, {
      expected: { sha256: file.sha256, size: file.size },
      label: file.bundlePath,
    });
    if (executable) await chmod(staged, 0o755);
    this.moves.push({
      staged,
      dest: file.absolute,
      backup: file.action === 'replace-changed',
      onlyIfAbsent: false,
    });
    return staged;
  }

  /** Stages a file the import makes itself, `targetPath` (POSIX) under the target; returns where it will be. */
  async writeMade(
    targetPath: string,
    text: string,
    options: { mode?: number; onlyIfAbsent?: boolean } = {},
  ): Promise<string> {
    const staged = path.join(this.dir, 'made', ...targetPath.split('/'));
    this.makeFolder(path.dirname(staged));
    writeFileSync(staged, text, { flag: 'wx', mode: options.mode ?? 0o644 });
    const dest = path.join(this.target, ...targetPath.split('/'));
    this.moves.push({ staged, dest, backup: false, onlyIfAbsent: options.onlyIfAbsent ?? false });
    return dest;
  }

  /** Where a planned bundle file's bytes are before commit: staged by this run, or already in the target. */
  current(file: PlannedFile): string {
    return this.moves.find((m) => m.dest === file.absolute)?.staged ?? file.absolute;
  }

  /** The backups commit(stamp) makes: one per user's changed file it replaces. */
  backups(stamp: string): string[] {
    return this.moves.filter((m) => m.backup).map((m) => backupPath(m.dest, stamp));
  }

  /**
   * Moves every staged file into place, all or none; returns the backups made. Each move is a few metadata
   * operations (a folder, lstat, rename), done synchronously: a thread-pool round trip for each cost far more
   * than the operation, and nothing else is to run meanwhile.
   */
  async commit(stamp: string): Promise<string[]> {
    for (const move of this.moves) {
      try {
        this.place(move, stamp);
      } catch (error) {
        throw placeError(move.dest, error, await this.rollback());
      }
    }
    return this.placed.flatMap((p) => (p.backup ? [p.backup] : []));
  }

  /**
   * Removes the staging folder; but where a rollback could not put a replaced file back, the staging folder
   * stays with only that file's earlier content in it (the error named where).
   */
  discard(): void {
    const parts =
      this.keep.size === 0 ? [this.dir] : ['files', 'made'].map((part) => path.join(this.dir, part));
    for (const part of parts) rmSync(part, { recursive: true, force: true });
  }

  private place(move: Move, stamp: string): void {
    const placed: Placed = { dest: move.dest };
    // Recorded before any change, so that a rollback sees a step that failed half-way.
    this.placed.push(placed);
    const madeDir = this.makeFolder(path.dirname(move.dest));
    if (madeDir) placed.madeDir = madeDir;
    const exists = lstatSync(move.dest, { throwIfNoEntry: false }) !== undefined;
    if (exists && move.onlyIfAbsent) return;
    if (exists && move.backup) {
      copyFileSync(move.dest, backupPath(move.dest, stamp), constants.COPYFILE_EXCL);
      placed.backup = backupPath(move.dest, stamp);
    }
    if (exists) {
      // A second name for the file being replaced, so the rename below still replaces it in one step.
      const previous = path.join(this.dir, 'previous', String(this.placed.length));
      this.makeFolder(path.dirname(previous));
      linkSync(move.dest, previous);
      placed.previous = previous;
    }
    renameSync(move.staged, move.dest);
    placed.moved = true;
  }

  /** Makes `dir` and the folders above it as needed, once per run; returns the first folder it made, if any. */
  private makeFolder(dir: string): string | undefined {
    if (this.folders.has(dir)) return undefined;
    const made = mkdirSync(dir, { recursive: true });
    this.folders.add(dir);
    return made;
  }

  /**
   * Undoes what commit did, newest first: replaced files put back, added ones and backups removed. Every step is
   * tried, whatever failed before it; returns what could not be undone (empty when the target is as it was).
   */
  private async rollback(): Promise<string[]> {
    const failed: string[] = [];
    /** Runs one step; false when it failed (recorded in `failed`). */
    const attempt = (what: string, step: () => Promise<unknown>) =>
      step().then(
        () => true,
        (error: Error) => {
          failed.push(`${what} (${error.message})`);
          return false;
        },
      );
    for (const { dest, previous, moved, backup, madeDir } of this.placed.reverse()) {
      if (previous) {
        const back = await attempt(`${dest}: not put back, its earlier content is kept as ${previous}`, () =>
          rename(previous, dest),
        );
        if (!back) this.keep.add(previous);
      } else if (moved) {
        await attempt(`${dest}: not removed`, () => rm(dest, { force: true }));
      }
      if (backup) await attempt(`${backup}: not removed`, () => rm(backup, { force: true }));
      // Only the folders it made, and only when nothing else came into them meanwhile.
      if (madeDir) {
        await attempt(`${madeDir}: not removed`, () => removeEmptyFolders(madeDir, path.dirname(dest)));
      }
    }
    this.placed = [];
    return failed;
  }
}

/** Something in the way (a folder where a file goes, a file where a folder goes). */
const IN_THE_WAY = new Set(['EEXIST', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY', 'EPERM']);

function placeError(dest: string, error: unknown, notUndone: string[]): OfflineError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const why = (error as Error).message ?? String(error);
  const outcome =
    notUndone.length === 0 ? 'no file was placed' : `the target is not as it was: ${notUndone.join('; ')}`;
  return new OfflineError(
    code === 'ENOSPC' ? 'ENOSPACE' : IN_THE_WAY.has(code) ? 'EEXIST' : 'EINTERNAL',
    `${dest}: could not be placed (${why}); ${outcome}`,
    { file: dest, cause: error },
  );
}

function backupPath(dest: string, stamp: string): string {
  return `${dest}.bak-${stamp}`;
}
