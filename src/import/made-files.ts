import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BundleManifest } from '../bundle/manifest.js';
import { registryOverride, registryOverridePath } from '../registry/compose-override.js';
import type { RegistryTarget } from '../registry/target.js';
import { envFileText, envTemplatePath } from './env-file.js';
import type { PlannedFile } from './file-plan.js';
import { type ImportReport, jsonText } from './report.js';
import type { StagedFiles } from './staged-files.js';
import { ENV_FILE, MANIFEST_COPY, placedFile, REPORT_FILE } from './target-layout.js';

/**
 * Stages the files an import makes itself, to be placed with the bundle's files, all or none (StagedFiles):
 * a .env from the template with generated secrets (only when none exists), the compose override naming a
 * registry's images, the manifest copy (for `offline rebuild` and the next import), and import-report.json,
 * last, since it records the others. Sets the report's env, tiktokenCacheDir, registry and timings.import
 * (`importSeconds` gives the time taken so far).
 */
export async function stageMadeFiles(
  manifest: BundleManifest,
  target: string,
  staged: StagedFiles,
  planned: Map<string, PlannedFile>,
  report: ImportReport,
  importSeconds: () => number,
  registry?: { target: RegistryTarget; text: string },
): Promise<void> {
  const env = await stageEnvFile(manifest, target, staged, planned);
  if (env) report.env = env;
  if (manifest.tiktoken.entries.length > 0)
    report.tiktokenCacheDir = path.resolve(target, manifest.tiktoken.dir);
  if (registry) {
    const composeText = await readFile(
      current(manifest, target, staged, planned, manifest.compose.file),
      'utf8',
    );
    const text = await registryOverride(manifest, composeText, registry.target, registry.text);
    const override = await staged.writeMade(registryOverridePath(manifest), text);
    report.registry = { registry: registry.text, composeOverride: override };
  }
  await staged.writeMade(MANIFEST_COPY, jsonText(manifest));
  report.timings.import = importSeconds();
  await staged.writeMade(REPORT_FILE, jsonText(report));
}

/**
 * Stages <target>/.env from the bundle's template with generated secrets, only when the bundle has a template
 * and no .env exists (an existing one is the user's: never touched, --force or not). Returns where it goes.
 */
export async function stageEnvFile(
  manifest: BundleManifest,
  target: string,
  staged: StagedFiles,
  planned: Map<string, PlannedFile>,
): Promise<string | undefined> {
  const template = envTemplatePath(manifest, target);
  if (!manifest.env || !template) return undefined;
  const exists = await lstat(path.join(target, ENV_FILE)).then(
    () => true,
    () => false,
  );
  if (exists) return undefined;
  const text = await envFileText(manifest, current(manifest, target, staged, planned, manifest.env.template));
  return staged.writeMade(ENV_FILE, text, { mode: 0o600, onlyIfAbsent: true });
}

/** A bundle file's verified bytes before the commit: staged by this run, or already in the target unchanged. */
function current(
  manifest: BundleManifest,
  target: string,
  staged: StagedFiles,
  planned: Map<string, PlannedFile>,
  bundlePath: string,
): string {
  const file = planned.get(bundlePath);
  return file ? staged.current(file) : placedFile(manifest, bundlePath, target, bundlePath);
}
