import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { STACK_DIR } from '../bundle/layout.js';
import { type BuildCacheEntry, type BundleManifest, parseManifest } from '../bundle/manifest.js';
import { BuildStepRecorder } from '../docker/build-steps.js';
import type { DockerEngine } from '../docker/engine.js';
import { OfflineError } from '../errors.js';
import { buildContextStream } from '../export/build-context.js';
import { assertFolderArgument } from '../fs/folder-argument.js';
import { type BuildArgUsed, type GivenBuildArg, mergeBuildArgs } from './build-args.js';
import { declaredArgs } from './dockerfile-args.js';
import { runStagePasses, type StagePass, stagePassTargets, unique } from './stage-passes.js';
import { MANIFEST_COPY } from './target-layout.js';

export interface RebuildOptions {
  service: string;
  /** The folder an earlier `offline import` wrote (holds .offline/manifest.json). */
  target: string;
  /** The changed source; default: the service's context as imported under the target. */
  context?: string;
  /** `--build-arg`s (parsed by parseBuildArgs): each replaces the recorded arg of its name for this build. */
  buildArgs?: GivenBuildArg[];
}

export interface RebuildHooks {
  /** A line of the build's output. */
  onLine?: (line: string) => void;
  /** Something the rebuild goes on without (a stage image of the cache no longer in the engine). */
  onWarning?: (message: string) => void;
}

export interface RebuildResult {
  service: string;
  image: string;
  id: string;
  previousId?: string;
  context: string;
  /**
   * The cache images offered (the service's current image, the stage images, the FROM bases); each build
   * gets the intermediates the stage passes before it left ahead of these.
   */
  cacheFrom: string[];
  /** The build args the build used, by name (values only of recorded ones, which the manifest holds). */
  buildArgs: BuildArgUsed[];
  /**
   * The service build's steps; those a cache can answer (all but FROM and the ARGs before the first FROM); and
   * how many came from the cache: from the bundle's cache or an earlier build, not from running the step in
   * this rebuild (a stage pass included).
   */
  steps: number;
  cacheable: number;
  cached: number;
  /** The builds of the earlier stages on their own, before the service's build (none for one stage). */
  stagePasses: StagePass[];
}

/**
 * Rebuilds one service on the air-gapped host from changed source with the classic builder, offering the
 * bundle's build cache (its stage images and FROM bases, loaded by the import, plus the service's current
 * image) as `cachefrom`, never pulling: steps whose inputs did not change come from the cache. A multi-stage
 * build first builds each earlier stage on its own (stage-passes.ts says why), so the last stage's steps
 * come from the cache too. The new image takes the service's tag, so `docker compose up -d` runs it.
 */
export async function runRebuild(
  engine: DockerEngine,
  options: RebuildOptions,
  hooks: RebuildHooks = {},
): Promise<RebuildResult> {
  const manifest = await readManifestCopy(options.target);
  const service = manifest.services.find((s) => s.name === options.service);
  if (!service) {
    throw new OfflineError('EUSAGE', `${options.service}: no such service in bundle ${manifest.name}`, {
      file: options.service,
      expected: manifest.services.map((s) => s.name).join(', '),
    });
  }
  if (!service.built) {
    throw new OfflineError(
      'EUSAGE',
      `${options.service}: not built from source (it runs the image ${service.image} as it is); nothing to rebuild`,
      { file: options.service, hint: 'rebuild a service that has a build: section in the compose file' },
    );
  }
  const cache = manifest.buildCaches.find((c) => c.service === options.service);
  if (!cache) {
    throw new OfflineError(
      'EUSAGE',
      `${options.service}: bundle ${manifest.name} carries no build cache for it (export with buildCache: true or --build-cache)`,
      { file: options.service },
    );
  }
  const context = path.resolve(options.context ?? importedContext(options.target, cache));
  if (options.context !== undefined) {
    await assertFolderArgument(context, "give --context the folder holding the service's changed source");
  }
  const dockerfile = path.join(context, cache.dockerfile);
  if (!(await stat(dockerfile).catch(() => undefined))?.isFile()) {
    throw new OfflineError('EMISSING', `${dockerfile}: no Dockerfile in the build context`, {
      file: dockerfile,
    });
  }
  const { args, used } = mergeBuildArgs(cache.args, options.buildArgs);
  const text = await readFile(dockerfile, 'utf8');
  warnAboutGivenArgs(text, dockerfile, options.buildArgs ?? [], hooks.onWarning);
  const {
    refs: cacheFrom,
    stageImages,
    onBuildBases,
  } = await cacheImages(engine, cache, service.image, hooks.onWarning);
  const previous = await engine.inspectImage(service.image);
  const buildArgs = Object.keys(args).length > 0 ? args : undefined;
  const passed = await runStagePasses(
    engine,
    stagePassTargets(text, cache.target),
    {
      context,
      dockerfile: cache.dockerfile,
      dockerfileText: text,
      onBuildBases,
      ...(buildArgs && { buildArgs }),
      cacheFrom,
      stageImages,
    },
    hooks.onLine,
  );
  const recorder = new BuildStepRecorder();
  const id = await engine.buildImage(
    await buildContextStream(context, cache.dockerfile),
    {
      tags: [service.image],
      dockerfile: cache.dockerfile,
      ...(buildArgs && { buildArgs }),
      ...(cache.target !== undefined && { target: cache.target }),
      cacheFrom: unique([...passed.intermediates, ...cacheFrom]),
      pull: false,
    },
    recorder.listener(hooks.onLine),
  );
  return {
    service: options.service,
    image: service.image,
    id,
    ...(previous && { previousId: previous.id }),
    context,
    cacheFrom,
    buildArgs: used,
    steps: recorder.steps.length,
    cacheable: recorder.cacheable(),
    cached: recorder.cachedExcept(passed.built),
    stagePasses: passed.passes,
  };
}

/**
 * Warns, as docker does, about a given arg the Dockerfile never declares (the build does not use it), and
 * about a `--build-arg KEY` the environment lacks (the build takes the Dockerfile's default instead).
 */
function warnAboutGivenArgs(
  text: string,
  dockerfile: string,
  given: readonly GivenBuildArg[],
  onWarning?: (message: string) => void,
): void {
  const declared = declaredArgs(text);
  for (const arg of given) {
    if (!declared.has(arg.name)) {
      onWarning?.(
        `--build-arg ${arg.name}: not consumed, ${dockerfile} declares no ARG ${arg.name}; the build does not use it`,
      );
    } else if (arg.source === 'default') {
      onWarning?.(
        `--build-arg ${arg.name}: ${arg.name} is not set in the environment; the build takes the Dockerfile's default for it`,
      );
    }
  }
}

async function readManifestCopy(target: string): Promise<BundleManifest> {
  const file = path.join(target, MANIFEST_COPY);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    // ENOTDIR: the target, or a folder on the way, is a file.
    if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw error;
    throw new OfflineError('EUSAGE', `${file}: not found; ${target} is not a folder offline import wrote`, {
      file,
      hint: 'pass --target with the folder you imported the bundle into',
    });
  });
  return parseManifest(text, file);
}

/** Where the import put the service's context: the stack's files sit at the top of the target. */
function importedContext(target: string, cache: BuildCacheEntry): string {
  const inStack = cache.context === STACK_DIR ? '' : cache.context.replace(`${STACK_DIR}/`, '');
  return path.join(target, inStack);
}

const RELOAD_HINT = 're-run `offline import` of this bundle to load its build cache again';

/**
 * The service's current image when present, the cache's stage images and FROM bases, in the order the
 * service's build gets them (its current image first: its last stage's steps are there). The bases must be
 * there (the build does not pull); a stage image that is gone (say, after `docker image prune -a`) is only
 * left out with a warning: the build runs that stage's steps again, or does not need it at all. Also the bases
 * with ONBUILD triggers, for which the stage passes send the whole context.
 */
async function cacheImages(
  engine: DockerEngine,
  cache: BuildCacheEntry,
  image: string,
  onWarning?: (message: string) => void,
): Promise<{ refs: string[]; stageImages: Map<string, string>; onBuildBases: string[] }> {
  const onBuildBases: string[] = [];
  for (const base of cache.bases) {
    const info = await engine.inspectImage(base);
    if (!info) {
      throw new OfflineError('EMISSING', `${base}: FROM base image of the build not in the engine`, {
        file: base,
        hint: RELOAD_HINT,
      });
    }
    if (info.onBuild) onBuildBases.push(base);
  }
  const refs: string[] = [];
  if (await engine.inspectImage(image)) refs.push(image);
  const stageImages = new Map<string, string>();
  for (const stage of cache.stages) {
    if (await engine.inspectImage(stage.tag)) {
      refs.push(stage.tag);
      stageImages.set(stage.target.toLowerCase(), stage.tag);
    } else {
      onWarning?.(
        `${stage.tag}: build cache image of stage "${stage.target}" not in the engine; its steps run again if the build needs them (${RELOAD_HINT})`,
      );
    }
  }
  refs.push(...cache.bases);
  return { refs: unique(refs), stageImages, onBuildBases };
}
