import { locateBundle } from '../bundle/locate.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { readBundleWithProgress } from '../bundle/read-with-progress.js';
import type { Output } from '../cli/output.js';
import type { DockerEngine } from '../docker/engine.js';
import { makeOutputFolder } from '../fs/output-folder.js';
import { removeEmptyFolders } from '../fs/remove-empty.js';
import { parseTarget } from '../registry/target.js';
import { bundleFolderOutputs, explainInPlace, isInPlace, stackInUse } from '../selfcontained/in-place.js';
import { startStack, waitForServices } from './compose-start.js';
import { ensureImagesTagged } from './image-loader.js';
import { restoreImageSnapshot, takeImageSnapshot } from './image-snapshot.js';
import { ImportRouting } from './import-routing.js';
import { stageMadeFiles } from './made-files.js';
import type { ImportOptions } from './options.js';
import { buildReport, type ImportReport, writeReport } from './report.js';
import { StagedFiles } from './staged-files.js';
import { isCache } from './target-layout.js';

/**
 * The import: locate the bundle, then one streaming read that checks every byte it reads, sends image archives
 * to the engine and other files to a staging folder, with pre-flight checks as soon as the manifest is known, and
 * stops once nothing more is needed (ImportRouting). Only when everything read verified are the files, with the
 * report and .env the import makes, moved into place, all or none. On any failure before that (or an abort of
 * `signal`: Ctrl-C) the images this run added are removed, moved tags restored, staged files and the target
 * folders it made removed. A stack that fails to start (--start) undoes nothing: the import itself is complete.
 * With `registry` (the images were pushed there): no image is loaded; the image archives are verified as
 * they stream except the last, which is not read, and a compose override naming the registry's images is
 * written beside the compose file.
 */
export async function runImport(
  options: ImportOptions,
  engine: DockerEngine,
  output: Output,
  signal?: AbortSignal,
): Promise<ImportReport> {
  // process.uptime(), not performance.now(): the first use of `performance` loads Node's perf_hooks, about 1 ms
  // of a start-up on 2 cores.
  const started = process.uptime();
  // Parsed first: a bad --registry is a usage error before anything is read.
  const registry = options.registry === undefined ? undefined : parseTarget(options.registry, false);
  // The engine's images are listed while the bundle is located and its head read, and awaited only when the
  // manifest is there to compare with: nothing is loaded before, so the snapshot is "before" this run.
  const snapshotTaken = takeImageSnapshot(engine);
  snapshotTaken.catch(() => {}); // handled even when a failure before the manifest leaves it unawaited
  const location = await locateBundle(options.bundle);
  if (location.kind === 'archive' && !location.sidecar)
    output.warn(
      `${location.archiveName}: no .sha256 sidecar beside it; the media copy is not checked separately`,
    );
  // The first folder made for the target, if any: removed again when the import fails.
  const madeTarget = await makeOutputFolder(options.target, '--target');
  const staged = new StagedFiles(options.target);
  // In place (the target is the extracted folder's stack/), the stack files are already where they go (the
  // read verifies them), and the bundle's own files (README.txt, the importers) stay next door: only the
  // tiktoken cache is placed.
  const placedHere =
    location.kind === 'folder' && isInPlace(location.dir, options.target) ? isCache : () => true;
  // Whether the stack already runs in place (an earlier import there): read before this run writes anything.
  const inUse = location.kind === 'folder' && (await stackInUse(location.dir));
  // An extracted folder may hold an import's outputs (and in stack/, a running stack's files): not "unlisted".
  const ignoreOutputs =
    location.kind === 'folder'
      ? { ignoreUnlisted: bundleFolderOutputs(location.dir, inUse, options.target) }
      : {};
  const routing = new ImportRouting({
    options,
    engine,
    output,
    snapshotTaken,
    staged,
    placedHere,
    ...(registry && { registry }),
    ...(signal && { signal }),
  });
  /** Set once the files are in place: a later failure (the stack not starting) undoes nothing. */
  let placed = false;

  try {
    await staged.create('--target');
    const result = await readBundleWithProgress(output.progress, location, routing, {
      ...ignoreOutputs,
      ...(signal && { signal }),
    });
    const m = result.manifest;
    routing.noteArchivesNotRead(result);
    const { loaded, skipped, planned } = routing;
    if (!registry) {
      await ensureImagesTagged(
        engine,
        m,
        routing.archivesDone,
        loaded.length === 0 ? routing.snapshot : undefined,
      );
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const report = buildReport(m, location.archiveName, options.target, result.verified, [
      ...planned.values(),
    ]);
    report.images = { loaded, skipped };
    report.backups = staged.backups(stamp);
    if (result.stoppedBefore) report.notRead = result.stoppedBefore;
    await stageMadeFiles(
      m,
      options.target,
      staged,
      planned,
      report,
      () => seconds(started),
      registry && options.registry ? { target: registry, text: options.registry } : undefined,
    );
    // The last moment a Ctrl-C undoes the import: the commit places every file or none.
    signal?.throwIfAborted();
    await staged.commit(stamp);
    placed = true;
    staged.discard();
    if (options.start) await startAndWait(m, options, engine, output, report, started, signal);
    return report;
  } catch (error) {
    staged.discard();
    if (!placed) {
      if (madeTarget) await removeEmptyFolders(madeTarget, options.target);
      await undoLoads(engine, output, routing);
    }
    throw location.kind === 'folder' ? explainInPlace(error, location.dir, inUse) : error;
  }
}

/**
 * `--start`: the stack up, then the wait for its services (up to --timeout, or a Ctrl-C), recorded in the
 * report and its file.
 */
async function startAndWait(
  m: BundleManifest,
  options: ImportOptions,
  engine: DockerEngine,
  output: Output,
  report: ImportReport,
  started: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const command = await startStack(m, options.target, report.registry?.composeOverride);
  output.info(`started: ${command}`);
  const containers = await untilAborted(
    waitForServices(
      engine,
      m.project,
      m.services.map((s) => s.name),
      options.timeout,
      (line) => output.info(line),
    ),
    signal,
  );
  report.started = {
    command,
    services: containers.map((c) => ({
      name: c.name,
      state: c.state,
      ...(c.health && { health: c.health }),
    })),
  };
  report.timings.start = seconds(started) - (report.timings.import ?? 0);
  await writeReport(options.target, report);
}

/**
 * Removes the images this run loaded and restores the tags it moved. Without a snapshot the manifest was never
 * compared with the engine: nothing was loaded. A failure of the undo itself is a warning: the import's own
 * error is the one to report.
 */
async function undoLoads(engine: DockerEngine, output: Output, routing: ImportRouting): Promise<void> {
  if (!routing.snapshot) return;
  const undone = await restoreImageSnapshot(engine, routing.snapshot, bundleImages(routing.manifest)).catch(
    (undo: Error) => {
      output.warn(`could not undo the load: ${undo.message}`);
      return { removed: [], retagged: [] };
    },
  );
  if (undone.removed.length > 0 || undone.retagged.length > 0) {
    output.warn(
      `undone: removed ${undone.removed.length} image(s) this run loaded, restored ${undone.retagged.length} tag(s)`,
    );
  }
}

/** The image IDs and tags an import of this bundle may add or move (none before its manifest was read). */
function bundleImages(manifest: BundleManifest | undefined): { ids: Set<string>; tags: Set<string> } {
  const images = manifest?.images ?? [];
  return {
    ids: new Set([...images.map((i) => i.id), ...(manifest?.archives.flatMap((a) => a.images) ?? [])]),
    tags: new Set(images.flatMap((i) => i.tags)),
  };
}

/** `work`, or the signal's reason as soon as it aborts (the work itself goes on: the wait for it ends). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  let onAbort = () => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

function seconds(since: number): number {
  return Number((process.uptime() - since).toFixed(3));
}
