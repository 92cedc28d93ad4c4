import { access, constants, lstat } from 'node:fs/promises';
import path from 'node:path';
import { STACK_DIR } from '../bundle/layout.js';
import { isExtractedBundle } from '../bundle/locate.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { OfflineError } from '../errors.js';
import { toPosix } from '../fs/safe-path.js';
import { ENV_FILE, REPORT_FILE, targetPathFor } from '../import/target-layout.js';

/**
 * Where `offline import` puts the stack when no --target is given: for a bundle folder extracted with tar, its
 * own stack/ folder (the stack runs in place, as README.txt's manual recipe and import.sh do); else the
 * current folder. An extracted folder on read-only media (a mounted DVD, a write-protected stick) cannot be
 * that target: refused at once, naming --target.
 */
export async function defaultImportTarget(bundle: string): Promise<string> {
  if (!(await isExtractedBundle(bundle))) return '.';
  const stack = path.join(bundle, STACK_DIR);
  const writable = await access(stack, constants.W_OK).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
  );
  if (!writable) {
    throw new OfflineError(
      'EUSAGE',
      `${stack}: cannot be written (read-only media?), so the stack cannot run in place`,
      {
        file: stack,
        hint: 'name a folder to import into: --target DIR (import.sh: sh import.sh DIR)',
      },
    );
  }
  return stack;
}

/** The timestamp suffix of a backup an import made with --force (see StagedFiles.commit). */
const BACKUP = /\.bak-\d{4}-\d\d-\d\dT[\d-]+Z$/;

/** Tells the paths of an extracted bundle folder that are not the bundle's (see bundleFolderOutputs). */
export type ForeignPath = (rel: string, manifest: BundleManifest) => boolean;

/**
 * An import into a folder inside the extracted bundle writes files there that neither list names: the stack
 * and tiktoken files at their target paths, .env, the report, the bundle's own files under .offline/, backups.
 * Returns the test for exactly those (undefined: the target is outside the bundle folder).
 */
export function importOutputs(bundleDir: string, target: string): ForeignPath | undefined {
  const prefix = path.relative(path.resolve(bundleDir), path.resolve(target));
  if (prefix.startsWith('..') || path.isAbsolute(prefix)) return undefined;
  const base = prefix === '' ? '' : `${toPosix(prefix)}/`;
  return (rel, manifest) => {
    if (!rel.startsWith(base)) return false;
    const inner = rel.slice(base.length);
    if (inner === REPORT_FILE || inner === ENV_FILE || BACKUP.test(inner)) return true;
    if (inner.startsWith('.offline/') || inner.startsWith('.offline-import-')) return true;
    return manifest.files.some((f) => targetPathFor(f.path) === inner);
  };
}

/**
 * What an extracted bundle folder may hold besides the bundle, for the folder reader to leave out of EUNLISTED
 * and EUNSAFE_PATH: the outputs of an import in place (into its stack/ folder, the default) whatever the target
 * of this run, and of an import into `target` when that lies inside the folder. Once an import in place has
 * run (its report is in stack/), the stack runs from stack/ and writes there (a bind-mounted data folder), as
 * its user may: then any path under stack/ that the lists do not name is theirs, not the bundle's.
 */
export async function bundleFolderOutputs(bundleDir: string, target?: string): Promise<ForeignPath> {
  const tests = [importOutputs(bundleDir, path.join(bundleDir, STACK_DIR))];
  if (target !== undefined) tests.push(importOutputs(bundleDir, target));
  const stackInUse = Boolean(
    (await lstat(path.join(bundleDir, STACK_DIR, REPORT_FILE)).catch(() => undefined))?.isFile(),
  );
  return (rel, manifest) =>
    (stackInUse && rel.startsWith(`${STACK_DIR}/`)) || tests.some((test) => test?.(rel, manifest) === true);
}

/** An import into the extracted bundle's own stack/ folder: the stack runs where the bundle was extracted. */
export function isInPlace(bundleDir: string, target: string): boolean {
  return path.resolve(target) === path.resolve(bundleDir, STACK_DIR);
}

/** Problems that, in a folder the stack runs in, mean a change made there rather than damage in transit. */
const CHANGED_IN_PLACE = new Set(['EINTEGRITY', 'EBADSIZE', 'EMISSING', 'EEXIST']);

/**
 * An import in place reads the stack files from the folder the stack runs in, so a file changed there (by its
 * user, or by the stack) no longer matches the bundle: says so, instead of the advice for damaged media ("copy
 * it again") or for a changed target ("--force", which cannot help when the target is the bundle itself).
 * Other errors, and imports elsewhere, are returned as they are.
 */
export function explainInPlace(error: unknown, bundleDir: string, target: string): unknown {
  const stack = path.join(bundleDir, STACK_DIR);
  if (!(error instanceof OfflineError) || !isInPlace(bundleDir, target)) return error;
  // A bundle path (stack/compose.yml), or a path in the target (EEXIST names those).
  const inStack = (file: string | undefined) =>
    file !== undefined &&
    (path.isAbsolute(file)
      ? !path.relative(path.resolve(stack), file).startsWith('..')
      : file.startsWith(`${STACK_DIR}/`));
  const files = error.problems.length > 0 ? error.problems.map((p) => p.file) : [error.file];
  if (!CHANGED_IN_PLACE.has(error.code) || !files.every(inStack)) return error;
  return new OfflineError(
    error.code,
    `${error.message}: changed in ${stack}, where the stack runs in place (the bundle's copy of it is gone)`,
    {
      ...(error.file !== undefined && { file: error.file }),
      ...(error.expected !== undefined && { expected: error.expected }),
      ...(error.found !== undefined && { found: error.found }),
      problems: error.problems,
      cause: error,
      hint: `to run the stack as it is now, start it with compose in ${stack}; to import the bundle again, extract a fresh copy of it`,
    },
  );
}
