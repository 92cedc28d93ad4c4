import type { BundleManifest } from '../bundle/manifest.js';
import type { BundleEntry, BundleReadHandler, BundleReadResult } from '../bundle/reader.js';
import type { Output } from '../cli/output.js';
import type { DockerEngine } from '../docker/engine.js';
import type { RegistryTarget } from '../registry/target.js';
import { envTemplatePath } from './env-file.js';
import { type PlannedFile, planFiles } from './file-plan.js';
import { type LoadOutcome, loadArchive, missingImages } from './image-loader.js';
import type { ImageSnapshot } from './image-snapshot.js';
import type { ImportOptions } from './options.js';
import { checkDiskSpace, checkPlatforms } from './preflight.js';
import type { StagedFiles } from './staged-files.js';
import { isImageArchive, lastArchive, placedFile } from './target-layout.js';

/** What the routing needs from the import around it. */
export interface RoutingContext {
  options: ImportOptions;
  engine: DockerEngine;
  output: Output;
  /** The engine's image list, taken before anything was read (awaited once the manifest is there). */
  snapshotTaken: Promise<ImageSnapshot>;
  staged: StagedFiles;
  /** Where the images were pushed (`--registry`): nothing is loaded. */
  registry?: RegistryTarget;
  /** Which of the bundle's files this import places (in place: only the tiktoken cache). */
  placedHere: (path: string) => boolean;
  signal?: AbortSignal;
}

/**
 * What an import does with the bundle as it streams (readBundle's handler). Once the manifest and checksums are
 * read: the pre-flight checks, and the plan of which images to load and which files to place. Then each entry
 * goes to the engine (an image archive), to the staging folder (a file to place) or nowhere (a file already in
 * place), and the read stops before the next entry once nothing more is awaited. What it did is kept here for
 * the report, and for the undo (`snapshot`).
 */
export class ImportRouting implements BundleReadHandler {
  manifest: BundleManifest | undefined;
  /** The engine's images before this run, once the manifest was read: without one, nothing was loaded. */
  snapshot: ImageSnapshot | undefined;
  /** What the plan does with each of the bundle's files, by bundle path. */
  planned = new Map<string, PlannedFile>();
  /** Image IDs this run loaded, and those it found present. */
  readonly loaded: string[] = [];
  readonly skipped: string[] = [];
  /** The image archives dealt with: read (loaded or verified), or not read because every image was present. */
  readonly archivesDone = new Set<string>();
  /** The images the engine has: those of the snapshot, and those each archive this run loads adds. */
  private readonly present = new Set<string>();
  /**
   * The entries the read must still bring, known once the lists are: files to place (created or updated), files
   * verified where they are (an extracted folder's, in place), and image archives with an image to load (from a
   * registry: those before the last, only verified). Once none is left the read stops, before the next entry.
   */
  private awaited = new Set<string>();
  /** Whether loads go in several requests (engines before API 1.44); known once there is something to load. */
  private inRequests = false;

  constructor(private readonly context: RoutingContext) {}

  async onLists(m: BundleManifest): Promise<void> {
    const { options, engine, output, registry } = this.context;
    this.manifest = m;
    output.info(`bundle ${m.name} ${m.version}: ${m.images.length} images, ${m.files.length} files`);
    this.snapshot = await this.context.snapshotTaken;
    for (const id of this.snapshot.ids) this.present.add(id);
    // Images the engine lacks take room on its data root: loaded now, or from a registry pulled by --start.
    const toLoad = new Set<string>();
    for (const archive of registry && !options.start ? [] : m.archives) {
      for (const id of missingImages(this.present, m, archive.path)) toLoad.add(id);
    }
    // The engine's platform, API version and data root matter for the images it gets: a re-import asks for
    // none of them (the engine runs runc and docker-init to answer /version and /info, about 12 ms of its CPU
    // each on 2 cores).
    const version = toLoad.size > 0 ? await engine.version() : undefined;
    if (version) {
      this.inRequests = loadsInRequests(version.apiVersion);
      for (const warning of checkPlatforms(m, version, options.force, toLoad)) output.warn(warning);
    }
    await checkDiskSpace(m, version?.rootDir, options.target, toLoad.size);
    const plan = await planFiles(m, options.target, options.force, this.context.placedHere);
    this.planned = new Map(plan.map((f) => [f.bundlePath, f]));
    // The files the manifest names for later steps (the .env, compose up) must be ones it places.
    envTemplatePath(m, options.target);
    placedFile(m, m.compose.file, options.target, 'compose.file');
    const last = lastArchive(m);
    this.awaited = awaitedEntries(m, this.planned, (archive) =>
      registry ? archive !== last : missingImages(this.present, m, archive).length > 0,
    );
  }

  stopBefore(): boolean {
    return this.awaited.size === 0;
  }

  async onEntry(entry: BundleEntry): Promise<void> {
    this.awaited.delete(entry.path);
    if (isImageArchive(entry.path)) return this.load(entry);
    const file = this.planned.get(entry.path);
    if (!file || file.action === 'unchanged') return void entry.stream.resume();
    await this.context.staged.write(file, entry.stream, entry.executable);
  }

  /** After the read: the image archives it stopped before were not needed, every image in them is present. */
  noteArchivesNotRead(result: BundleReadResult): void {
    if (!result.stoppedBefore || this.context.registry) return;
    for (const archive of result.manifest.archives) {
      if (this.archivesDone.has(archive.path)) continue;
      this.skipped.push(...archive.images);
      this.archivesDone.add(archive.path);
      this.context.output.info(`${archive.path}: every image already present, not read`);
    }
  }

  private async load(entry: BundleEntry): Promise<void> {
    const { engine, output, registry, signal } = this.context;
    // From a registry, an archive before the last is only verified (the reader hashes it as it drains).
    if (registry) return void entry.stream.resume();
    output.info(`${entry.path}: loading into the engine`);
    const m = this.manifest as BundleManifest;
    let outcome: LoadOutcome;
    try {
      outcome = await loadArchive(engine, this.present, m, entry.path, entry.stream, this.inRequests);
    } catch (error) {
      // The reader now hashes the rest of the archive (damage is reported as such): say why it waits.
      if (!signal?.aborted) {
        const why = (error as Error).message;
        output.warn(`${entry.path}: the load failed (${why}); checking the rest of its sha256`);
      }
      throw error;
    }
    for (const id of outcome.loaded) this.present.add(id);
    this.loaded.push(...outcome.loaded);
    this.skipped.push(...outcome.skipped);
    this.archivesDone.add(entry.path);
  }
}

/**
 * The bundle files the read must bring (see ImportRouting's `awaited`): every file but those planned
 * `unchanged` (the target's copy already has the manifest's sha256) and the image archives `needsArchive`
 * turns down.
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

/**
 * Engines before API 1.44 (Docker 25) unpack every load into a folder of their own and skip a layer they have,
 * which pipelined loads rely on (measured on Docker 20.10 with its classic image store); later engines, which
 * may use the containerd image store, are sent one request.
 */
function loadsInRequests(apiVersion: string): boolean {
  const [major, minor] = apiVersion.split('.').map(Number);
  return major === 1 && minor !== undefined && minor < 44;
}
