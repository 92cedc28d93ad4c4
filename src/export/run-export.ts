import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ListrTask } from 'listr2';
import type { BundleManifest } from '../bundle/manifest.js';
import type { Output } from '../cli/output.js';
import { createTaskList } from '../cli/tasks.js';
import type { DockerEngine } from '../docker/engine.js';
import { makeOutputFolder } from '../fs/output-folder.js';
import { discardPacked, finalizeStep, type PackedBundle, packStep, verifyStep } from './finish.js';
import type { ExportOptions } from './options.js';
import { assertOutputFree } from './output-files.js';
import { type ExportState, newExportState } from './state.js';
import { buildCacheStep, buildStep, planStep, pullStep, saveStep, stackStep, tiktokenStep } from './steps.js';

export interface ExportResult {
  state: ExportState;
  manifest: Omit<BundleManifest, 'files'> & { files?: BundleManifest['files'] };
  packed: PackedBundle;
  verified: { files: number; bytes: number };
}

type Step = (state: ExportState, report: (line: string) => void) => Promise<void>;

function timed(
  title: string,
  key: string,
  step: Step,
  skip?: (state: ExportState) => boolean | string,
): ListrTask<ExportState> {
  return {
    title,
    ...(skip && { skip: (state: ExportState) => skip(state) }),
    task: async (state, task) => {
      const started = process.uptime();
      try {
        let last = '';
        await step(state, (line) => {
          if (line === last) return;
          last = line;
          task.output = line;
        });
      } finally {
        state.timings[key] = Number((process.uptime() - started).toFixed(3));
      }
    },
  };
}

/**
 * The export pipeline: plan, stack files (secrets refused first, before anything slow), build, pull, one
 * save, tiktoken, build caches, manifest and checksums, pack, and one streaming re-read of the packed bundle.
 * Works in a hidden staging folder inside --out that is removed whatever happens.
 */
export async function runExport(
  options: ExportOptions,
  engine: DockerEngine,
  output: Output,
  signal: AbortSignal,
): Promise<ExportResult> {
  await makeOutputFolder(options.outDir, '--out');
  await assertOutputFree(options);
  const stagingDir = path.join(options.outDir, `.offline-export-${randomBytes(6).toString('hex')}`);
  await mkdir(stagingDir);
  const state = newExportState(options, engine, stagingDir, signal, (message) => output.warn(message));
  const result: Partial<ExportResult> = {};
  const started = process.uptime();
  try {
    const tasks = createTaskList<ExportState>(
      [
        timed('Plan: read the compose file and list every image', 'plan', planStep),
        timed('Stack files: copy, refusing secrets', 'stack', stackStep),
        timed('Build services', 'build', buildStep, (s) =>
          s.plan?.builds.length ? false : 'nothing to build',
        ),
        timed('Pull images', 'pull', pullStep, (s) =>
          s.plan?.pulls.length || s.plan?.extras.length ? false : 'nothing to pull',
        ),
        timed('Save all images in one archive', 'save', saveStep),
        timed('tiktoken encodings', 'tiktoken', tiktokenStep, (s) =>
          s.options.encodings.length ? false : 'none asked for',
        ),
        timed('Build caches', 'buildCache', buildCacheStep, (s) =>
          s.options.buildCache && s.plan?.builds.length ? false : 'off',
        ),
        timed('Importers, manifest and checksums', 'manifest', async (s) => {
          result.manifest = await finalizeStep(s);
        }),
        timed('Pack', 'pack', async (s, report) => {
          result.packed = await packStep(s, report);
        }),
        timed('Verify the packed bundle', 'verify', async (s, report) => {
          result.verified = await verifyStep(s, result.packed, report);
        }),
      ],
      output,
    );
    try {
      await tasks.run(state);
      signal.throwIfAborted();
    } catch (error) {
      await discardPacked(result.packed);
      throw error;
    }
    state.timings.total = Number((process.uptime() - started).toFixed(3));
    return { state, ...result } as ExportResult;
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }
}
