import path from 'node:path';
import { STACK_DIR } from '../bundle/layout.js';
import { isExtractedBundle } from '../bundle/locate.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { toPosix } from '../fs/safe-path.js';
import { ENV_FILE, REPORT_FILE, targetPathFor } from '../import/target-layout.js';

/**
 * Where `offline import` puts the stack when no --target is given: for a bundle folder extracted with tar, its
 * own stack/ folder (the stack runs in place, as README.txt's manual recipe and import.sh do); else the
 * current folder.
 */
export async function defaultImportTarget(bundle: string): Promise<string> {
  return (await isExtractedBundle(bundle)) ? path.join(bundle, STACK_DIR) : '.';
}

/** The timestamp suffix of a backup an import made with --force (see StagedFiles.commit). */
const BACKUP = /\.bak-\d{4}-\d\d-\d\dT[\d-]+Z$/;

/**
 * An import into a folder inside the extracted bundle writes files there that neither list names: the stack
 * and tiktoken files at their target paths, .env, the report, the bundle's own files under .offline/, backups.
 * Returns the test the folder reader uses to leave exactly those out of EUNLISTED (undefined: target outside).
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
