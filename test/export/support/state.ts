import path from 'node:path';
import type { DockerEngine } from '../../../src/docker/engine.js';
import type { ExportOptions } from '../../../src/export/options.js';
import { projectNameFor } from '../../../src/export/options.js';
import { type ExportState, newExportState } from '../../../src/export/state.js';

/** Export options for a fixture stack copied to `stackRoot`, with the given overrides. */
export function optionsFor(
  stackRoot: string,
  name: string,
  overrides: Partial<ExportOptions> = {},
): ExportOptions {
  return {
    name,
    version: '1.0.0',
    project: projectNameFor(name),
    composeFile: path.join(stackRoot, 'docker-compose.yml'),
    stackRoot,
    extraImages: [],
    files: [],
    encodings: [],
    buildCache: false,
    pull: 'missing',
    outDir: path.join(stackRoot, 'out'),
    compression: 'gzip',
    includeSecrets: false,
    force: false,
    ...overrides,
  };
}

export function stateFor(engine: DockerEngine, options: ExportOptions, stagingDir: string): ExportState {
  return newExportState(options, engine, stagingDir, new AbortController().signal, () => {});
}
