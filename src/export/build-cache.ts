import path from 'node:path';
import { STACK_DIR } from '../bundle/layout.js';
import type { BuildCacheEntry } from '../bundle/manifest.js';
import type { DockerEngine } from '../docker/engine.js';
import { toPosix } from '../fs/safe-path.js';
import { buildService } from './build.js';
import { stagesBuilt } from './dockerfile-stages.js';
import { withTag } from './options.js';
import type { PlannedBuild } from './plan.js';

/** The tag a cached build stage gets: offline-cache/<bundle>/<service>:<stage>. */
export function stageTag(bundle: string, service: string, stage: string): string {
  return `offline-cache/${bundle}/${service}:${stage}`;
}

export interface StageImageOptions {
  bundle: string;
  stackRoot: string;
  platform: string | undefined;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Tags the image each named stage of each built service ended with in the service's own build (`built`: per
 * service, the stage images its build output named, in Dockerfile order), so that the stage images and the
 * FROM bases, saved together, let the air-gapped host rebuild a changed service with `cachefrom` reusing
 * every unchanged step. Only the stages the service's build reaches (up to its target) are tagged: a rebuild
 * builds no other.
 * The images come from the build output, not from a second build with `target`: such a build takes each step
 * from the builder's local cache, which answers with the newest matching image, and that may be one another
 * build of the same steps made at the same time on this engine. Where the output named no image for a stage
 * (the build's stages and the Dockerfile's do not line up, or the image is gone since), that stage is built
 * with `target` instead.
 */
export async function tagStageImages(
  engine: DockerEngine,
  builds: readonly PlannedBuild[],
  built: Readonly<Record<string, string[]>>,
  options: StageImageOptions,
): Promise<BuildCacheEntry[]> {
  const entries: BuildCacheEntry[] = [];
  for (const planned of builds) {
    const stages: BuildCacheEntry['stages'] = [];
    const reached = stagesBuilt(planned.dockerfile.stages, planned.build.target);
    const recorded = built[planned.service] ?? [];
    const named = reached.flatMap((stage, index) => (stage.name ? [{ name: stage.name, index }] : []));
    for (const { name: target, index } of named) {
      options.signal?.throwIfAborted();
      const tag = stageTag(options.bundle, planned.service, target);
      const image = recorded.length === reached.length ? recorded[index] : undefined;
      const id =
        (image && (await tagRecorded(engine, image, tag))) ??
        (await buildService(
          engine,
          planned,
          { tags: [tag], target, platform: options.platform },
          options.onLine,
          options.signal,
        ));
      stages.push({ target, tag, id });
    }
    entries.push({
      service: planned.service,
      context: [STACK_DIR, toPosix(path.relative(options.stackRoot, planned.build.context))]
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

/** Tags the image a build's output named; its full ID, or undefined when the engine no longer has it. */
async function tagRecorded(engine: DockerEngine, image: string, tag: string): Promise<string | undefined> {
  const info = await engine.inspectImage(image);
  if (!info) return undefined;
  const colon = tag.lastIndexOf(':');
  await engine.tagImage(info.id, tag.slice(0, colon), tag.slice(colon + 1));
  return info.id;
}

/** Every tag the cache archive holds: stage images and bases, unique, in a stable order. */
export function cacheRefs(entries: readonly BuildCacheEntry[]): string[] {
  return [...new Set(entries.flatMap((e) => [...e.stages.map((s) => s.tag), ...e.bases]))].sort();
}
