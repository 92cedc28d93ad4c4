import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BundleManifest } from '../bundle/manifest.js';
import { hashFile } from '../checksum/hash-file.js';
import { OfflineError } from '../errors.js';
import { resolveInside } from '../fs/safe-path.js';
import { isImageArchive, REPORT_FILE, targetPathFor } from './target-layout.js';

export type FileAction = 'create' | 'unchanged' | 'update' | 'replace-changed';

export interface PlannedFile {
  bundlePath: string;
  /** POSIX path under the target folder. */
  targetPath: string;
  absolute: string;
  sha256: string;
  size: number;
  action: FileAction;
}

/** sha256 of each file a previous import wrote, from its report: a file still matching it is ours to update. */
async function previouslyWritten(target: string): Promise<Map<string, string>> {
  try {
    const report = JSON.parse(await readFile(path.join(target, REPORT_FILE), 'utf8')) as {
      files?: { path: string; sha256: string }[];
    };
    return new Map((report.files ?? []).map((f) => [f.path, f.sha256]));
  } catch {
    return new Map();
  }
}

/**
 * Decides, before anything is written, what happens to each file: created, left (same bytes), updated (a file
 * an earlier import wrote and nobody changed), or a user's changed file, which is refused (EEXIST, all of them
 * named) unless --force, and then backed up before it is replaced.
 */
export async function planFiles(
  manifest: BundleManifest,
  target: string,
  force: boolean,
): Promise<PlannedFile[]> {
  const previous = await previouslyWritten(target);
  const planned: PlannedFile[] = [];
  const conflicts: OfflineError[] = [];
  for (const file of manifest.files) {
    if (isImageArchive(file.path)) continue;
    const targetPath = targetPathFor(file.path);
    const absolute = resolveInside(target, targetPath, 'manifest.json');
    const existing = await stat(absolute).catch(() => undefined);
    let action: FileAction = 'create';
    if (existing) {
      const current = (await hashFile(absolute)).sha256;
      if (current === file.sha256) action = 'unchanged';
      else if (previous.get(targetPath) === current) action = 'update';
      else {
        action = 'replace-changed';
        if (!force) {
          conflicts.push(
            new OfflineError('EEXIST', `${absolute}: exists with other content; not overwritten`, {
              file: absolute,
              expected: file.sha256,
              found: current,
            }),
          );
        }
      }
    }
    planned.push({
      bundlePath: file.path,
      targetPath,
      absolute,
      sha256: file.sha256,
      size: file.size,
      action,
    });
  }
  if (conflicts.length > 0) {
    throw new OfflineError(
      'EEXIST',
      `${target}: ${conflicts.length} file(s) there differ from the bundle's`,
      {
        file: target,
        problems: conflicts,
        hint: 'move them away, or run again with --force (each is backed up first)',
      },
    );
  }
  return planned;
}
