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
import { envTemplatePath } from './env-file.js';
import { type PlannedFile, planFiles } from './file-plan.js';
import { ensureImagesTagged, loadArchive, missingImages } from './image-loader.js';
import { type ImageSnapshot, restoreImageSnapshot, takeImageSnapshot } from './image-snapshot.js';
import { stageMadeFiles } from './made-files.js';
import type { ImportOptions } from './options.js';
import { checkDiskSpace, checkPlatforms } from './preflight.js';
import { buildReport, type ImportReport, writeReport } from './report.js';
import { StagedFiles } from './staged-files.js';
import { isCache, isImageArchive, lastArchive, placedFile } from './target-layout.js';

/**
 * The import: locate the bundle, then one streaming read that checks every byte it reads, sends image archives
 * to the engine and other files to a staging folder, with pre-flight checks as soon as the manifest is known, and
 * stops once nothing more is needed (`awaited`). Only when everything read verified are the files, with the
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
  let snapshot: ImageSnapshot | undefined;
  const location = await locateBundle(options.bundle);
  if (location.kind === 'archive' && !location.sidecar)
    output.warn(
      `${location.archiveName}: no .sha256 sidecar beside it; the media copy is not checked separately`,
    );
  // The images the engine has: those of the snapshot, and those each archive this run loads adds.
  const present = new Set<string>();
  /** Whether loads go in several requests (engines before API 1.44); known once there is something to load. */
  let inRequests = false;
  // The first folder made for the target, if any: removed again when the import fails.
  const madeTarget = await makeOutputFolder(options.target, '--target');
  const staged = new StagedFiles(options.target);
  const loaded: string[] = [];
  const skipped: string[] = [];
  const readArchives = new Set<string>();
  let planned = new Map<string, PlannedFile>();
  let manifest: BundleManifest | undefined;
  /**
   * The entries the read must still bring, known once the lists are: files to place (created or updated), files
   * verified where they are (an extracted folder's, in place), and image archives with an image to load (from a
   * registry: those before the last, only verified). Once none is left the read stops, before the next entry.
   */
  let awaited = new Set<string>();
  /** Set once the files are in place: a later failure (the stack not starting) undoes nothing. */
  let placed = false;

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

  try {
    await staged.create('--target');
    const result = await readBundleWithProgress(
      output.progress,
      location,
      {
        onLists: async (m) => {
          manifest = m;
          output.info(`bundle ${m.name} ${m.version}: ${m.images.length} images, ${m.files.length} files`);
          snapshot = await snapshotTaken;
          for (const id of snapshot.ids) present.add(id);
          // Images the engine lacks take room on its data root: loaded now, or from a registry pulled by --start.
          const toLoad = new Set<string>();
          for (const archive of registry && !options.start ? [] : m.archives) {
            for (const id of missingImages(present, m, archive.path)) toLoad.add(id);
          }
          // The engine's platform, API version and data root matter for the images it gets: a re-import asks for
          // none of them (the engine runs runc and docker-init to answer /version and /info, about 12 ms of its
          // CPU each on 2 cores).
          const version = toLoad.size > 0 ? await engine.version() : undefined;
          if (version) {
            inRequests = loadsInRequests(version.apiVersion);
            for (const warning of checkPlatforms(m, version, options.force, toLoad)) output.warn(warning);
          }
          await checkDiskSpace(m, version?.rootDir, options.target, toLoad.size);
          planned = new Map(
            (await planFiles(m, options.target, options.force, placedHere)).map((f) => [f.bundlePath, f]),
          );
          // The files the manifest names for later steps (the .env, compose up) must be ones it places.
          envTemplatePath(m, options.target);
          placedFile(m, m.compose.file, options.target, 'compose.file');
          const last = lastArchive(m);
          awaited = awaitedEntries(m, planned, (archive) =>
            registry ? archive !== last : missingImages(present, m, archive).length > 0,
          );
        },
        stopBefore: () => awaited.size === 0,
        onEntry: async (entry) => {
          const m = manifest as BundleManifest;
          awaited.delete(entry.path);
          if (isImageArchive(entry.path)) {
            // From a registry, an archive before the last is only verified (the reader hashes it as it drains).
            if (registry) return void entry.stream.resume();
            output.info(`${entry.path}: loading into the engine`);
            const outcome = await loadArchive(engine, present, m, entry.path, entry.stream, inRequests).catch(
              (error: Error) => {
                // The reader now hashes the rest of the archive (damage is reported as such): say why it waits.
                if (!signal?.aborted) {
                  output.warn(
                    `${entry.path}: the load failed (${error.message}); checking the rest of its sha256`,
                  );
                }
                throw error;
              },
            );
            for (const id of outcome.loaded) present.add(id);
            loaded.push(...outcome.loaded);
            skipped.push(...outcome.skipped);
            readArchives.add(entry.path);
            return;
          }
          const file = planned.get(entry.path);
          if (!file || file.action === 'unchanged') {
            entry.stream.resume();
            return;
          }
          await staged.write(file, entry.stream, entry.executable);
        },
      },
      { ...ignoreOutputs, ...(signal && { signal }) },
    );
    const m = result.manifest;
    // Stopped early, the archives not read were not needed: every image in them is present.
    for (const archive of result.stoppedBefore && !registry ? m.archives : []) {
      if (readArchives.has(archive.path)) continue;
      skipped.push(...archive.images);
      readArchives.add(archive.path);
      output.info(`${archive.path}: every image already present, not read`);
    }
    if (!registry)
      await ensureImagesTagged(engine, m, readArchives, loaded.length === 0 ? snapshot : undefined);
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
    if (options.start) {
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
    return report;
  } catch (error) {
    staged.discard();
    if (madeTarget && !placed) await removeEmptyFolders(madeTarget, options.target);
    // Without a snapshot the manifest was never compared with the engine: nothing was loaded.
    if (!placed && snapshot) {
      const undone = await restoreImageSnapshot(engine, snapshot, bundleImages(manifest)).catch(
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
    throw location.kind === 'folder' ? explainInPlace(error, location.dir, inUse) : error;
  }
}

/**
 * The bundle files the read must bring (see `awaited` in runImport): every file but those planned `unchanged`
 * (the target's copy already has the manifest's sha256) and the image archives `needsArchive` turns down.
 */
function awaitedEntries(
  manifest: BundleManifest,
  planned: ReadonlyMap<string, PlannedFile>,
  needsArchive: (archive: string) => boolean,
): Set<string> {
  const archives = new Set(manifest.archives.map((a) => a.path));
  return new Set(
    manifest.files
      .map((f) => f.path)
      .filter((p) => (archives.has(p) ? needsArchive(p) : planned.get(p)?.action !== 'unchanged')),
  );
}

/** The image IDs and tags an import of this bundle may add or move (none before its manifest was read). */
function bundleImages(manifest: BundleManifest | undefined): { ids: Set<string>; tags: Set<string> } {
  const images = manifest?.images ?? [];
  return {
    ids: new Set([...images.map((i) => i.id), ...(manifest?.archives.flatMap((a) => a.images) ?? [])]),
    tags: new Set(images.flatMap((i) => i.tags)),
  };
}

/**
 * Engines before API 1.44 (Docker 25) unpack every load into a folder of their own and skip a layer they have,
 * which pipelined loads rely on (measured on Docker 20.10 with its classic image store); later engines, which
 * may use the containerd image store, are sent one request.
 */
function loadsInRequests(apiVersion: string): boolean {
  const [major, minor] = apiVersion.split('.').map(Number);
  return major === 1 && minor !== undefined && minor < 44;
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
