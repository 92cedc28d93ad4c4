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
  type Listed = { files?: { path: string; sha256: string }[] };
  const [manifest, report] = await Promise.all([
    read<Listed>(MANIFEST_COPY).catch(() => undefined),
    read<Listed>(REPORT_FILE).catch(() => undefined),
  ]);
  const written = new Map<string, string>();
  for (const f of manifest?.files ?? []) written.set(targetPathFor(f.path), f.sha256);
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
  // Each file's target is looked at at once, not one after another: a re-import hashes every file it placed,
  // and each is a few round trips to the thread pool.
  const looked = await Promise.all(
    manifest.files
      .filter((file) => !isImageArchive(file.path) && include(file.path))
      .map(async (file) => {
        const targetPath = targetPathFor(file.path);
        const absolute = resolveInside(target, targetPath, 'manifest.json');
        const existing = await stat(absolute).catch(() => undefined);
        const current = existing && (await hashFile(absolute, existing.size)).sha256;
        const action = actionFor(current, file.sha256, previous.get(targetPath));
        const planned = {
          bundlePath: file.path,
          targetPath,
          absolute,
          sha256: file.sha256,
          size: file.size,
          action,
        };
        return { planned, current };
      }),
  );
  const conflicts = force
    ? []
    : looked
        .filter(({ planned }) => planned.action === 'replace-changed')
        .map(
          ({ planned, current }) =>
            new OfflineError('EEXIST', `${planned.absolute}: exists with other content; not overwritten`, {
              file: planned.absolute,
              expected: planned.sha256,
              found: current,
            }),
        );
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
  return looked.map((l) => l.planned);
}

/** What happens to a file whose target holds `current` (undefined: nothing there yet). */
function actionFor(
  current: string | undefined,
  bundled: string,
  writtenBefore: string | undefined,
): FileAction {
  if (current === undefined) return 'create';
  if (current === bundled) return 'unchanged';
  return current === writtenBefore ? 'update' : 'replace-changed';
}
