import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

/** Where an unfinished blob upload stands, kept on disk so a push run again continues it. */
export interface SavedUpload {
  location: string;
  offset: number;
}

/**
 * One small JSON file per unfinished upload, keyed by registry, repository and digest, under
 * OFFLINE_UPLOAD_STATE_DIR or $XDG_CACHE_HOME/offline/uploads (~/.cache/offline/uploads).
 */
export class UploadState {
  constructor(readonly dir: string = defaultStateDir()) {}

  async load(origin: string, repository: string, digest: string): Promise<SavedUpload | undefined> {
    const text = await readFile(this.file(origin, repository, digest), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const saved = JSON.parse(text) as SavedUpload;
      return typeof saved.location === 'string' && Number.isInteger(saved.offset) ? saved : undefined;
    } catch {
      return undefined;
    }
  }

  async save(origin: string, repository: string, digest: string, upload: SavedUpload): Promise<void> {
    const file = this.file(origin, repository, digest);
    await mkdir(this.dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(upload));
    await rename(temp, file);
  }

  async remove(origin: string, repository: string, digest: string): Promise<void> {
    await rm(this.file(origin, repository, digest), { force: true });
  }

  private file(origin: string, repository: string, digest: string): string {
    const key = createHash('sha256').update(`${origin}\n${repository}\n${digest}`).digest('hex');
    return path.join(this.dir, `${key}.json`);
  }
}

function defaultStateDir(): string {
  if (process.env.OFFLINE_UPLOAD_STATE_DIR) return process.env.OFFLINE_UPLOAD_STATE_DIR;
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'offline', 'uploads');
}
