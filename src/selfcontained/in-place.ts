import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, STACK_DIR } from '../bundle/layout.js';
import { isExtractedBundle } from '../bundle/locate.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { OfflineError } from '../errors.js';
import { toPosix } from '../fs/safe-path.js';
import { ENV_FILE, MANIFEST_COPY, REPORT_FILE, targetPathFor } from '../import/target-layout.js';

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

/**
 * Tells the paths of an extracted bundle folder that are not the bundle's (see bundleFolderOutputs): `kind` is
 * 'file' for a regular file, 'other' for a link, socket, device or a folder that cannot be read.
 */
export type ForeignPath = (rel: string, manifest: BundleManifest, kind: 'file' | 'other') => boolean;

/**
 * An import into a folder inside the extracted bundle writes files there that neither list names: the stack
 * and tiktoken files at their target paths, .env, the report, the bundle's own files under .offline/, backups.
 * Returns the test for exactly those (undefined: the target is outside the bundle folder).
 */
export function importOutputs(
  bundleDir: string,
  target: string,
): ((rel: string, manifest: BundleManifest) => boolean) | undefined {
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
 * Whether an import in place has run in this extracted folder: its stack/ holds the manifest copy both
 * importers keep (offline import and import.sh), byte for byte this bundle's manifest. From then on the stack
 * runs from stack/ and writes there (a bind-mounted data folder, a socket), as its user may.
 */
export async function stackInUse(bundleDir: string): Promise<boolean> {
  const [copy, manifest] = await Promise.all(
    [path.join(bundleDir, STACK_DIR, MANIFEST_COPY), path.join(bundleDir, MANIFEST_FILE)].map((file) =>
      readFile(file).catch(() => undefined),
    ),
  );
  return copy !== undefined && manifest !== undefined && copy.equals(manifest);
}

/**
 * What an extracted bundle folder may hold besides the bundle, for the folder reader to leave out: files that
 * an import in place (into stack/, the default) or an import into `target` inside the folder wrote; and once
 * the stack is in use (stackInUse), any path under stack/ that the lists do not name, links, sockets and
 * folders this user cannot read included. Links and other non-regular files are otherwise always reported.
 */
export function bundleFolderOutputs(bundleDir: string, inUse: boolean, target?: string): ForeignPath {
  const tests = [importOutputs(bundleDir, path.join(bundleDir, STACK_DIR))];
  if (target !== undefined) tests.push(importOutputs(bundleDir, target));
  return (rel, manifest, kind) =>
    (inUse && rel.startsWith(`${STACK_DIR}/`)) ||
    (kind === 'file' && tests.some((test) => test?.(rel, manifest) === true));
}

/** An import into the extracted bundle's own stack/ folder: the stack runs where the bundle was extracted. */
export function isInPlace(bundleDir: string, target: string): boolean {
  return path.resolve(target) === path.resolve(bundleDir, STACK_DIR);
}

/** Problems that, in a folder the stack runs in, mean a change made there rather than damage in transit. */
const CHANGED_IN_PLACE = new Set(['EINTEGRITY', 'EBADSIZE', 'EMISSING']);

/**
 * Once the stack runs in place (stackInUse), a stack file changed there (by its user, or by the stack) no
 * longer matches the bundle: says so, instead of the advice for damaged media ("copy it again"). On a first
 * import, and for any other error, the error is returned as it is: damage in transit is reported as such.
 */
export function explainInPlace(error: unknown, bundleDir: string, inUse: boolean): unknown {
  if (!(error instanceof OfflineError) || !inUse || !CHANGED_IN_PLACE.has(error.code)) return error;
  const files = error.problems.length > 0 ? error.problems.map((p) => p.file) : [error.file];
  if (!files.every((file) => file?.startsWith(`${STACK_DIR}/`))) return error;
  const stack = path.join(bundleDir, STACK_DIR);
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
