import { stat } from 'node:fs/promises';
import path from 'node:path';
import { BUILD_CACHE_ARCHIVE, IMAGES_ARCHIVE, TIKTOKEN_DIR } from '../bundle/layout.js';
import { readCompose } from '../compose/read-compose.js';
import { BuildStepRecorder } from '../docker/build-steps.js';
import { prefetchTiktoken } from '../tiktoken/prefetch.js';
import { buildService } from './build.js';
import { cacheRefs, tagStageImages } from './build-cache.js';
import { assertImagesCovered } from './coverage.js';
import { type ImageRequest, recordImages, tagsOf } from './image-records.js';
import { planExport } from './plan.js';
import { ensureImage } from './pull.js';
import { saveImagesTo } from './save.js';
import { copyStackFiles, selectStackFiles } from './stack-files.js';
import { type ExportState, need } from './state.js';

/** Progress lines a step reports (the listr task's output). */
export type Report = (line: string) => void;

/** 1. Read the compose file through the compose tool and plan every image; refuses bad services early. */
export async function planStep(state: ExportState): Promise<void> {
  const { options } = state;
  state.engineVersion = await state.engine.version();
  state.compose = await readCompose({
    file: options.composeFile,
    project: options.project,
    ...(options.profiles && { profiles: options.profiles }),
    warn: state.warn,
  });
  state.plan = await planExport(state.compose, options);
}

/** 2. Build each built service through the engine, tagged with every name compose may look for. */
export async function buildStep(state: ExportState, report: Report): Promise<void> {
  const plan = need(state.plan, 'plan');
  for (const [index, planned] of plan.builds.entries()) {
    report(`[${index + 1}/${plan.builds.length}] ${planned.service}`);
    const steps = new BuildStepRecorder();
    state.built[planned.service] = await buildService(
      state.engine,
      planned,
      { tags: planned.tags, platform: state.options.platform },
      (line) => {
        steps.line(line);
        report(line);
      },
      state.signal,
    );
    state.stageImages[planned.service] = steps.stageImages();
  }
}

/** 3. Pull the third-party images (services and extras) by the pull policy. */
export async function pullStep(state: ExportState, report: Report): Promise<void> {
  const plan = need(state.plan, 'plan');
  for (const ref of [...plan.pulls, ...plan.extras]) {
    state.signal.throwIfAborted();
    report(ref);
    if (await ensureImage(state.engine, ref, state.options.pull, state.options.platform, report)) {
      state.pulled.push(ref);
    }
  }
}

/** 4. Record every image and save them all in ONE multi-image save into images/images.tar. */
export async function saveStep(state: ExportState, report: Report): Promise<void> {
  const plan = need(state.plan, 'plan');
  const requests: ImageRequest[] = [
    ...plan.builds.flatMap((b) => b.tags.map((ref) => ({ ref, role: 'service' as const }))),
    ...plan.pulls.map((ref) => ({ ref, role: 'service' as const })),
    ...plan.extras.map((ref) => ({ ref, role: 'extra' as const })),
  ];
  state.images = await recordImages(state.engine, requests, IMAGES_ARCHIVE);
  assertImagesCovered(
    need(state.compose, 'compose'),
    state.options.project,
    state.options.extraImages,
    state.images,
  );
  const digest = await saveImagesTo(
    state.engine,
    tagsOf(state.images),
    path.join(state.stagingDir, IMAGES_ARCHIVE),
    state.createdAt,
    (bytes) => report(`${(bytes / 1048576).toFixed(0)} MiB`),
    state.signal,
  );
  state.imagesArchive = digest;
}

/** 6. Tag every named stage's image and save them plus the FROM bases into caches/build-cache.tar. */
export async function buildCacheStep(state: ExportState, report: Report): Promise<void> {
  const plan = need(state.plan, 'plan');
  const { options } = state;
  state.buildCaches = await tagStageImages(state.engine, plan.builds, state.stageImages, {
    bundle: options.name,
    stackRoot: options.stackRoot,
    platform: options.platform,
    onLine: report,
    signal: state.signal,
  });
  const refs = cacheRefs(state.buildCaches);
  if (refs.length === 0) {
    state.buildCaches = [];
    return;
  }
  const bases = new Set(plan.bases);
  state.cacheImages = await recordImages(
    state.engine,
    refs.map((ref) => ({ ref, role: bases.has(ref) ? 'base' : 'extra' })),
    BUILD_CACHE_ARCHIVE,
  );
  state.cacheArchive = await saveImagesTo(
    state.engine,
    refs,
    path.join(state.stagingDir, BUILD_CACHE_ARCHIVE),
    state.createdAt,
    (bytes) => report(`${(bytes / 1048576).toFixed(0)} MiB`),
    state.signal,
  );
}

/** 7. Copy the stack files as they are, refusing secrets unless --include-secrets. */
export async function stackStep(state: ExportState, report: Report): Promise<void> {
  const { options } = state;
  state.stack = await selectStackFiles({
    stackRoot: options.stackRoot,
    composeFile: options.composeFile,
    ...(options.env && { envTemplate: options.env.template }),
    globs: options.files,
    builds: need(state.plan, 'plan').builds,
    fullContexts: options.buildCache,
    includeSecrets: options.includeSecrets,
  });
  for (const secret of state.stack.secrets)
    state.warn(`shipping ${secret} although it looks like a secret (--include-secrets)`);
  const bytes = await copyStackFiles(options.stackRoot, state.stack.files, state.stagingDir);
  report(`${state.stack.files.length} files, ${bytes} bytes`);
}

/**
 * 5. The tiktoken files of the asked encodings into tiktoken/ (sha1-of-URL names plus index.json), through
 * src/tiktoken: taken from TIKTOKEN_CACHE_DIR when it holds them, else downloaded and verified.
 */
export async function tiktokenStep(state: ExportState, report: Report): Promise<void> {
  const cacheDir = process.env.TIKTOKEN_CACHE_DIR;
  const files = await prefetchTiktoken({
    outDir: path.join(state.stagingDir, TIKTOKEN_DIR),
    encodings: state.options.encodings,
    ...(cacheDir && (await isDir(cacheDir)) && { fromDir: cacheDir }),
    signal: state.signal,
    onProgress: (file, bytes) => report(`${file.plainName}: ${(bytes / 1048576).toFixed(1)} MiB`),
    onEvent: report,
    // A file in TIKTOKEN_CACHE_DIR that is wrong is skipped (downloaded instead): the export's summary says so.
    onWarn: state.warn,
  });
  state.tiktoken = files.map((f) => ({
    encoding: f.encoding,
    url: f.url,
    file: `${TIKTOKEN_DIR}/${f.file}`,
    sha256: f.sha256,
    size: f.size,
  }));
}

async function isDir(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => undefined))?.isDirectory() ?? false;
}
