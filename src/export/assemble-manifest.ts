import path from 'node:path';
import { BUILD_CACHE_ARCHIVE, IMAGES_ARCHIVE, STACK_DIR, TIKTOKEN_DIR } from '../bundle/layout.js';
import {
  BUNDLE_FORMAT,
  type BuildCacheEntry,
  type BundleArchive,
  type BundleImage,
  type BundleManifest,
  SCHEMA_VERSION,
  type TiktokenEntry,
} from '../bundle/manifest.js';
import type { EngineVersion } from '../docker/engine.js';
import { toPosix } from '../fs/safe-path.js';
import type { ExportOptions } from './options.js';
import type { PlannedService } from './plan.js';

export interface ManifestInput {
  options: ExportOptions;
  toolVersion: string;
  createdAt: Date;
  engine: EngineVersion;
  composeTool: string;
  profiles: string[];
  services: PlannedService[];
  images: BundleImage[];
  cacheImages: BundleImage[];
  buildCaches: BuildCacheEntry[];
  tiktoken: TiktokenEntry[];
}

function stackPath(options: ExportOptions, file: string): string {
  return `${STACK_DIR}/${toPosix(path.relative(options.stackRoot, file))}`;
}

/** manifest.json without files[] (finalizeStaging adds them): section 3 of docs/bundle-format.md. */
export function assembleManifest(input: ManifestInput): Omit<BundleManifest, 'files'> {
  const { options } = input;
  const archives: BundleArchive[] = [
    { path: IMAGES_ARCHIVE, kind: 'images', images: input.images.map((i) => i.id) },
  ];
  if (input.buildCaches.length > 0) {
    archives.push({
      path: BUILD_CACHE_ARCHIVE,
      kind: 'build-cache',
      images: input.cacheImages.map((i) => i.id),
    });
  }
  return {
    format: BUNDLE_FORMAT,
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'offline', version: input.toolVersion },
    createdAt: input.createdAt.toISOString(),
    name: options.name,
    version: options.version,
    project: options.project,
    source: {
      engine: { version: input.engine.version, os: input.engine.os, arch: input.engine.arch },
      compose: input.composeTool,
    },
    compose: { file: stackPath(options, options.composeFile), profiles: input.profiles },
    services: input.services.map((s) => ({
      name: s.name,
      image: s.image,
      built: s.built,
      healthcheck: s.healthcheck,
      profiles: s.profiles,
    })),
    images: [
      ...input.images,
      ...input.cacheImages.filter((c) => c.role === 'base' && !input.images.some((i) => i.id === c.id)),
    ],
    archives,
    buildCaches: input.buildCaches,
    tiktoken: { dir: TIKTOKEN_DIR, entries: input.tiktoken },
    ...(options.env && {
      env: { template: stackPath(options, options.env.template), generate: options.env.generate },
    }),
  };
}
