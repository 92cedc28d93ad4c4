import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { toolVersion } from '../cli/version.js';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { buildImporter, builtImporterPath } from './importer-build.js';

export type ImporterOrigin = 'self' | 'built-now' | 'dist';

/**
 * Puts the single-file importer (offline.mjs) at dest, from what is running:
 * - offline.mjs itself (the `offline` bin, or `node offline.mjs export`): copies its own file;
 * - the source (tsx, a checkout): builds it now with esbuild, so the importer always matches the exporter;
 * - the tsc build (dist/cli/main.js): copies dist/offline.mjs, which `make build` writes, or fails clearly.
 */
export async function stageImporter(dest: string): Promise<ImporterOrigin> {
  const singleFile = typeof OFFLINE_SINGLE_FILE === 'string' ? OFFLINE_SINGLE_FILE : undefined;
  if (singleFile === 'esm') {
    await copy(fileURLToPath(import.meta.url), dest);
    return 'self';
  }
  if (singleFile === 'cjs') {
    throw new OfflineError(
      'EUSAGE',
      'the single executable imports only; export with offline.mjs or a checkout',
      {
        hint: 'node offline.mjs export ...',
      },
    );
  }
  if (import.meta.url.endsWith('.ts')) {
    await buildImporter(dest, toolVersion());
    return 'built-now';
  }
  const built = builtImporterPath();
  if (!(await stat(built).catch(() => undefined))?.isFile()) {
    throw new OfflineError('EMISSING', `${built}: the single-file importer is missing; the bundle needs it`, {
      file: built,
      hint: 'run make build (it writes dist/offline.mjs beside dist/cli/main.js)',
    });
  }
  await copy(built, dest);
  return 'dist';
}

async function copy(from: string, to: string): Promise<void> {
  await writeStreamAtomic(createReadStream(from), to);
}
