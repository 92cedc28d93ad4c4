import { BuildStepRecorder } from '../docker/build-steps.js';
import type { BuildOptions, DockerEngine } from '../docker/engine.js';
import { contextStream } from '../export/build-context.js';
import { parseDockerfile, stagesBuilt } from '../export/dockerfile-stages.js';
import { type PassContextSent, passContext } from './pass-context.js';

/**
 * Why a multi-stage rebuild goes in passes. The classic builder's cachefrom cache (moby image/cache), made
 * anew at each FROM, takes for a step the first cachefrom image whose history extends the parent's by that
 * step. When that image has exactly one entry more, it is the step's image as it is; otherwise the builder
 * makes an intermediate from it and looks at that one image alone for the rest of the stage. A stage whose
 * first steps are an earlier stage's (an ARG, WORKDIR or LABEL each stage repeats: one image on the connected
 * host) is so tied to the earlier stage's image, and runs all its later steps again, a RUN apt-get too.
 * Built on its own first, each earlier stage leaves an image per step; offered ahead of all else, each is one
 * entry more than its parent: steps shared between stages come from these, and a stage is tied only to its
 * own image (the service's current image for the last stage).
 * A pass sends only the part of the build context its stages read (pass-context.ts).
 */

/** The named stages built on their own before the service's build: those before the stage it ends in. */
export function stagePassTargets(dockerfile: string, target?: string): string[] {
  // Every stage the build runs but its last.
  const before = stagesBuilt(parseDockerfile(dockerfile).stages, target).slice(0, -1);
  const names = before.flatMap((s) => (s.name ? [s.name] : []));
  return [...new Set(names)];
}

export interface StagePass {
  target: string;
  steps: number;
  /** Steps a cache can answer (all but FROM and the ARGs before the first FROM). */
  cacheable: number;
  /** Steps the builder took from the cache, an image an earlier pass made by running a step not counted. */
  cached: number;
  /** What of the build context the pass sent. */
  context: PassContextSent;
}

export interface StagePassesResult {
  passes: StagePass[];
  /** The images the passes' steps left, in build order, unique: cachefrom sources ahead of all others. */
  intermediates: string[];
  /** The images the passes made by running a step (a changed stage), not taken from a cache. */
  built: Set<string>;
}

export interface StagePassBuild {
  context: string;
  dockerfile: string;
  /** The Dockerfile's text (what each pass's stages read of the context is worked out from it). */
  dockerfileText: string;
  /** FROM bases with ONBUILD triggers: a pass then sends the whole context. */
  onBuildBases?: readonly string[];
  buildArgs?: Record<string, string>;
  /** The cache images as the service's build gets them (the service image, stage images, bases). */
  cacheFrom: readonly string[];
  /** Each stage's cache image, when in the engine: offered first for its own pass. */
  stageImages: ReadonlyMap<string, string>;
}

/**
 * Builds each target with `target` and no tag, in order, each offered the intermediates the passes before it
 * left, then its own stage image, then the other cache images; records every step's image. The builds leave
 * what any build leaves: intermediates (`docker images -a`), and for a changed stage its untagged image.
 */
export async function runStagePasses(
  engine: DockerEngine,
  targets: readonly string[],
  build: StagePassBuild,
  onLine?: (line: string) => void,
): Promise<StagePassesResult> {
  const passes: StagePass[] = [];
  const intermediates = new Set<string>();
  const built = new Set<string>();
  for (const [index, target] of targets.entries()) {
    const own = build.stageImages.get(target);
    const cacheFrom = unique([...intermediates, ...(own ? [own] : []), ...build.cacheFrom]);
    const options: BuildOptions = {
      tags: [],
      dockerfile: build.dockerfile,
      ...(build.buildArgs && { buildArgs: build.buildArgs }),
      target,
      cacheFrom,
      pull: false,
    };
    const context = await passContext(
      build.context,
      build.dockerfile,
      build.dockerfileText,
      target,
      build.onBuildBases,
    );
    onLine?.(`Stage pass ${index + 1}/${targets.length}: ${target}, sending ${describeSent(context.sent)}`);
    const recorder = new BuildStepRecorder();
    await engine.buildImage(contextStream(build.context, context.filter), options, recorder.listener(onLine));
    passes.push({
      target,
      steps: recorder.steps.length,
      cacheable: recorder.cacheable(),
      cached: recorder.cachedExcept(built),
      context: context.sent,
    });
    for (const id of recorder.images()) intermediates.add(id);
    for (const id of recorder.built()) built.add(id);
  }
  return { passes, intermediates: [...intermediates], built };
}

/**
 * What a pass sends, in words: `3 file(s), 1.2 KiB, of the build context (what its stages copy: requirements.txt,
 * vendor)`, or `the whole build context, because of <why>`.
 */
export function describeSent(sent: PassContextSent): string {
  if ('whole' in sent) return `the whole build context, because of ${sent.whole}`;
  const part = `${sent.files} file(s), ${(sent.bytes / 1024).toFixed(1)} KiB, of the build context`;
  if (sent.sources.length === 0) return `${part} (its stages copy nothing from it)`;
  return `${part} (what its stages copy: ${sent.sources.join(', ')})`;
}

export function unique(refs: readonly string[]): string[] {
  return [...new Set(refs)];
}
