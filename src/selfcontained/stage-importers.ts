import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { IMPORT_SCRIPT, IMPORTER_BUNDLE } from '../bundle/layout.js';
import type { BundleManifest, BundleRuntime } from '../bundle/manifest.js';
import { renderImportScript } from './import-script.js';
import { stageImporter } from './importer-source.js';
import { IMPORTER_NODE } from './node-version.js';
import { buildExecutable, EXECUTABLE_FILE } from './sea-build.js';

/**
 * Writes the bundle's importers into the staging folder: offline.mjs (the whole CLI in one file), import.sh
 * (sh + coreutils or busybox + docker), and with `withRuntime` a Node single executable for this host's platform. Returns
 * the manifest with `runtime` naming them; finalizeStaging then lists, hashes and mentions them in README.txt.
 */
export async function stageImporters(
  stagingDir: string,
  manifest: Omit<BundleManifest, 'files'>,
  options: { withRuntime: boolean; report?: (line: string) => void },
): Promise<Omit<BundleManifest, 'files'>> {
  options.report?.(IMPORTER_BUNDLE);
  await stageImporter(path.join(stagingDir, IMPORTER_BUNDLE));
  const script = path.join(stagingDir, IMPORT_SCRIPT);
  await writeFile(script, renderImportScript(manifest));
  await chmod(script, 0o755);
  const runtime: BundleRuntime = { importer: IMPORTER_BUNDLE, node: IMPORTER_NODE, script: IMPORT_SCRIPT };
  if (options.withRuntime) {
    options.report?.(`${EXECUTABLE_FILE} (Node single executable)`);
    const built = await buildExecutable(path.join(stagingDir, EXECUTABLE_FILE));
    runtime.executable = EXECUTABLE_FILE;
    runtime.platform = built.platform;
  }
  return { ...manifest, runtime };
}
