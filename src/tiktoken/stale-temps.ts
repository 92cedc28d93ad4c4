import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** A temp file as fs/atomic-file.ts names one beside its destination: `.<name>.<12 hex>.tmp`. */
const TEMP = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temp files of `names` that a run stopped by force (SIGTERM, SIGKILL, a power cut) left in dir:
 * those not written to for `olderThanMs`. A run still writing one touches it far more often than that, so only
 * the leftovers go. Returns the names removed.
 */
export async function removeStaleTemps(
  dir: string,
  names: ReadonlySet<string>,
  olderThanMs: number,
  now: number = Date.now(),
): Promise<string[]> {
  const entries = await readdir(dir).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    const target = TEMP.exec(entry)?.[1];
    if (target === undefined || !names.has(target)) continue;
    const info = await stat(path.join(dir, entry)).catch(() => undefined);
    if (!info?.isFile() || now - info.mtimeMs < olderThanMs) continue;
    await rm(path.join(dir, entry), { force: true });
    removed.push(entry);
  }
  return removed;
}
