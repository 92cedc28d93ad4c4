import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BundleManifest } from '../bundle/manifest.js';
import { hashFile } from '../checksum/hash-file.js';
import { OfflineError } from '../errors.js';
import { resolveInside } from '../fs/safe-path.js';
import { isImageArchive, MANIFEST_COPY, REPORT_FILE, targetPathFor } from './target-layout.js';

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

/**
 * sha256 of each file an earlier import or deploy wrote here, from its report and its copy of the manifest: a
 * file still matching it is ours to update.
 */
async function previouslyWritten(target: string): Promise<Map<string, string>> {
  const read = async <T>(file: string): Promise<T | undefined> =>
    JSON.parse(await readFile(path.join(target, file), 'utf8').catch(() => 'null')) ?? undefined;
  const written = new Map<string, string>();
  const manifest = await read<{ files?: { path: string; sha256: string }[] }>(MANIFEST_COPY).catch(
    () => undefined,
  );
  for (const f of manifest?.files ?? []) written.set(targetPathFor(f.path), f.sha256);
  const report = await read<{ files?: { path: string; sha256: string }[] }>(REPORT_FILE).catch(
    () => undefined,
  );
  for (const f of report?.files ?? []) written.set(f.path, f.sha256);
  return written;
}

/**
 * Decides, before anything is written, what happens to each file: created, left (same bytes), updated (a file
 * an earlier import wrote and nobody changed), or a user's changed file, which is refused (EEXIST, all of them
 * named) unless --force, and then backed up before it is replaced. `include` narrows the bundle files placed
 * (a deploy places only the stack's and the tiktoken cache).
 */
export async function planFiles(
  manifest: BundleManifest,
  target: string,
  force: boolean,
  include: (bundlePath: string) => boolean = () => true,
): Promise<PlannedFile[]> {
  const previous = await previouslyWritten(target);
  const planned: PlannedFile[] = [];
  const conflicts: OfflineError[] = [];
  for (const file of manifest.files) {
    if (isImageArchive(file.path) || !include(file.path)) continue;
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
