import path from 'node:path';
import { STACK_DIR } from '../bundle/layout.js';
import type { BuildCacheEntry } from '../bundle/manifest.js';
import type { DockerEngine } from '../docker/engine.js';
import { toPosix } from '../fs/safe-path.js';
import { buildService } from './build.js';
import { withTag } from './options.js';
import type { PlannedBuild } from './plan.js';

/** The tag a cached build stage gets: offline-cache/<bundle>/<service>:<stage>. */
export function stageTag(bundle: string, service: string, stage: string): string {
  return `offline-cache/${bundle}/${service}:${stage}`;
}

/**
 * Builds every named stage of each built service with `target` (the classic builder's cache makes this quick
 * after the service build) and tags it, so that the stage images and the FROM bases, saved together, let the
 * air-gapped host rebuild a changed service with `cachefrom` reusing every unchanged step.
 */
export async function buildStageImages(
  engine: DockerEngine,
  builds: readonly PlannedBuild[],
  bundle: string,
  stackRoot: string,
  platform: string | undefined,
  onLine?: (line: string) => void,
  signal?: AbortSignal,
): Promise<BuildCacheEntry[]> {
  const entries: BuildCacheEntry[] = [];
  for (const planned of builds) {
    const stages: BuildCacheEntry['stages'] = [];
    const names = [...new Set(planned.dockerfile.stages.flatMap((s) => (s.name ? [s.name] : [])))];
    for (const target of names) {
      const tag = stageTag(bundle, planned.service, target);
      const id = await buildService(engine, planned, { tags: [tag], target, platform }, onLine, signal);
      stages.push({ target, tag, id });
    }
    entries.push({
      service: planned.service,
      context: [STACK_DIR, toPosix(path.relative(stackRoot, planned.build.context))]
        .filter(Boolean)
        .join('/'),
      dockerfile: planned.build.dockerfile,
      ...(Object.keys(planned.build.args).length > 0 && { args: planned.build.args }),
      ...(planned.build.target !== undefined && { target: planned.build.target }),
      stages,
      bases: planned.dockerfile.bases.map(withTag),
    });
  }
  return entries;
}

/** Every tag the cache archive holds: stage images and bases, unique, in a stable order. */
export function cacheRefs(entries: readonly BuildCacheEntry[]): string[] {
  return [...new Set(entries.flatMap((e) => [...e.stages.map((s) => s.tag), ...e.bases]))].sort();
}
