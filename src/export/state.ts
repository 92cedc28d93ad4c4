import type { BuildCacheEntry, BundleImage, TiktokenEntry } from '../bundle/manifest.js';
import type { ComposeProject } from '../compose/model.js';
import type { DockerEngine, EngineVersion } from '../docker/engine.js';
import { createdAt } from './created-at.js';
import type { ExportOptions } from './options.js';
import type { ExportPlan } from './plan.js';
import type { StackFiles } from './stack-files.js';

/** What the export pipeline's tasks hand each other. */
export interface ExportState {
  options: ExportOptions;
  engine: DockerEngine;
  stagingDir: string;
  signal: AbortSignal;
  warn: (message: string) => void;
  /** The bundle's creation time (SOURCE_DATE_EPOCH when set): manifest, entry mtimes, image archives. */
  createdAt: Date;
  engineVersion?: EngineVersion;
  compose?: ComposeProject;
  plan?: ExportPlan;
  /** Image ID per built service. */
  built: Record<string, string>;
  /**
   * Per built service, the image each stage of its Dockerfile ended with in that build (the builder's short
   * IDs, in Dockerfile order): the build cache tags these.
   */
  stageImages: Record<string, string[]>;
  pulled: string[];
  images: BundleImage[];
  imagesArchive?: { sha256: string; size: number };
  buildCaches: BuildCacheEntry[];
  cacheImages: BundleImage[];
  cacheArchive?: { sha256: string; size: number };
  tiktoken: TiktokenEntry[];
  stack?: StackFiles;
  /** Seconds per step, for --json. */
  timings: Record<string, number>;
}

/** Requires a step's input, which an earlier task set. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`export pipeline: ${what} is not ready`);
  return value;
}

/** A fresh state for one export run. */
export function newExportState(
  options: ExportOptions,
  engine: DockerEngine,
  stagingDir: string,
  signal: AbortSignal,
  warn: (message: string) => void,
): ExportState {
  return {
    options,
    engine,
    stagingDir,
    signal,
    warn,
    createdAt: createdAt(),
    built: {},
    stageImages: {},
    pulled: [],
    images: [],
    buildCaches: [],
    cacheImages: [],
    tiktoken: [],
    timings: {},
  };
}
