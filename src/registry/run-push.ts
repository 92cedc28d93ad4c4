import { readFile, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { IMAGES_ARCHIVE } from '../bundle/layout.js';
import { locateBundle } from '../bundle/locate.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { readBundleWithProgress } from '../bundle/read-with-progress.js';
import type { ProgressFactory } from '../cli/progress-line.js';
import { OfflineError } from '../errors.js';
import { checkOutputFile, makeOutputFolder } from '../fs/output-folder.js';
import { removeEmptyFolders } from '../fs/remove-empty.js';
import { type PlannedFile, planFiles } from '../import/file-plan.js';
import { stageEnvFile } from '../import/made-files.js';
import { jsonText } from '../import/report.js';
import { StagedFiles } from '../import/staged-files.js';
import { MANIFEST_COPY } from '../import/target-layout.js';
import type { Credentials } from './auth.js';
import { RegistryClient } from './client.js';
import { registryOverride, registryOverridePath, writeComposeOverride } from './compose-override.js';
import { type ArchiveImage, spoolImageArchive } from './image-archive.js';
import { type PushReport, pushImages } from './pusher.js';
import { makeSpool, sweepStaleSpools } from './spool.js';
import { isStackFile } from './stack-files.js';
import { parseTarget } from './target.js';
import { UploadState } from './upload-state.js';

export interface PushRequest {
  bundle: string;
  registry: string;
  insecure: boolean;
  ca?: string;
  credentials?: Credentials;
  chunkSize: number;
  concurrency: number;
  /** A request silent both ways this long (ms) fails with EREGISTRY. */
  idleTimeout?: number;
  /** Where to write the compose override, if anywhere (with stackDir: as well as beside the compose file). */
  composeOverride?: string;
  /**
   * Also place the bundle's stack files and tiktoken cache here, as an import does (a file the user changed is
   * refused unless force, then backed up), with the override beside the compose file.
   */
  stackDir?: string;
  force?: boolean;
  signal?: AbortSignal;
  onStep?: (message: string) => void;
  /** A progress line for the read of the bundle. */
  progress?: ProgressFactory;
}

export interface PushResult extends PushReport {
  bundle: { name: string; version: string };
  /** The compose project the bundle names (a deploy's default stack name). */
  project: string;
  registry: string;
  /** The override written: the composeOverride file when asked for one, else the one beside the stack. */
  composeOverride?: string;
  /** With stackDir: the compose file placed there, and the override beside it. */
  composeFile?: string;
  stackOverride?: string;
  /** With stackDir: the .env this run created from the bundle's template (absent when one existed). */
  envFile?: string;
  /** With stackDir: copies of changed files replaced with force. */
  backups?: string[];
}

/**
 * `offline push`: checks the registry answers (and the credentials) first, reads the bundle once, verifying every
 * entry, with images/images.tar spooled to a temp folder as it streams, then pushes every image and, when asked,
 * writes the compose override. Needs no Docker engine. The spool is removed in any case.
 */
export async function runPush(request: PushRequest): Promise<PushResult> {
  const target = parseTarget(request.registry, request.insecure);
  const ca = request.ca ? await readCa(request.ca) : undefined;
  const client = new RegistryClient(target, {
    ...(request.credentials && { credentials: request.credentials }),
    ...(ca && { ca }),
    ...(request.signal && { signal: request.signal }),
    ...(request.idleTimeout !== undefined && { idleTimeout: request.idleTimeout }),
  });
  const swept = await sweepStaleSpools();
  if (swept.length > 0)
    request.onStep?.(`removed ${swept.length} spool(s) that killed pushes left: ${swept.join(', ')}`);
  const spool = await makeSpool();
  /** The stack files' staging folder, made in stackDir once that is known to be a folder. */
  let staged: StagedFiles | undefined;
  let planned = new Map<string, PlannedFile>();
  /** The first folder made for stackDir, removed again when the run places nothing there. */
  let madeStackDir: string | undefined;
  let placed = false;
  try {
    if (request.composeOverride) await checkOutputFile(request.composeOverride, '--compose-override');
    if (request.stackDir) {
      madeStackDir = await makeOutputFolder(request.stackDir, '--target');
      staged = new StagedFiles(request.stackDir);
      await staged.create('--target');
    }
    request.onStep?.(`checking ${target.host}`);
    await client.ping();
    const location = await locateBundle(request.bundle);
    let manifest: BundleManifest | undefined;
    let composeText: string | undefined;
    let images: ArchiveImage[] | undefined;
    request.onStep?.(`reading ${location.archiveName}`);
    await readBundleWithProgress(
      request.progress,
      location,
      {
        onLists: async (m) => {
          manifest = m;
          await checkSpoolRoom(spool, m.files.find((f) => f.path === IMAGES_ARCHIVE)?.size ?? 0);
          if (request.stackDir) {
            // Before anything is pushed: a changed file in the folder stops the run here.
            const plan = await planFiles(m, request.stackDir, request.force ?? false, isStackFile);
            planned = new Map(plan.map((f) => [f.bundlePath, f]));
          }
        },
        onEntry: async (entry) => {
          if (entry.path === IMAGES_ARCHIVE) {
            images = await spoolImageArchive(
              entry.stream,
              spool,
              `${location.archiveName}:${IMAGES_ARCHIVE}`,
            );
          } else if (staged && planned.has(entry.path)) {
            // Staged in the folder: moved into place only once the whole bundle is verified and pushed.
            const file = planned.get(entry.path) as PlannedFile;
            const written = await staged.write(file, entry.stream, entry.executable);
            if (entry.path === manifest?.compose.file) composeText = await readFile(written, 'utf8');
          } else if (entry.path === manifest?.compose.file) {
            const chunks: Buffer[] = [];
            for await (const chunk of entry.stream) chunks.push(chunk as Buffer);
            composeText = Buffer.concat(chunks).toString('utf8');
          }
        },
      },
      { ...(request.signal && { signal: request.signal }) },
    );
    if (!manifest || !images) {
      throw new OfflineError('EMISSING', `${location.archiveName}: has no ${IMAGES_ARCHIVE} to push`, {
        file: location.archiveName,
      });
    }
    // Before anything is pushed: a service whose image the bundle lacks stops the run here.
    const override =
      request.composeOverride || request.stackDir
        ? await registryOverride(manifest, composeText, target, request.registry)
        : undefined;
    request.onStep?.(`pushing ${images.length} image(s) to ${target.host}`);
    const report = await pushImages(client, images, target, {
      chunkSize: request.chunkSize,
      concurrency: request.concurrency,
      state: new UploadState(),
      ...(request.signal && { signal: request.signal }),
    });
    const result: PushResult = {
      bundle: { name: manifest.name, version: manifest.version },
      project: manifest.project,
      registry: request.registry,
      ...report,
    };
    if (request.stackDir && staged && composeText !== undefined) {
      // As an import does: a .env from the template with generated secrets, only when none exists; placed
      // with the stack's files and the manifest copy, all or none.
      const env = await stageEnvFile(manifest, request.stackDir, staged, planned);
      if (env) result.envFile = env;
      if (override !== undefined) {
        result.stackOverride = path.resolve(await staged.writeMade(registryOverridePath(manifest), override));
      }
      await staged.writeMade(MANIFEST_COPY, jsonText(manifest));
      result.backups = await staged.commit(new Date().toISOString().replace(/[:.]/g, '-'));
      placed = true;
      result.composeFile = path.resolve(request.stackDir, manifest.compose.file.replace(/^stack\//, ''));
    }
    if (override !== undefined && request.composeOverride) {
      await writeComposeOverride(request.composeOverride, override);
    }
    const written = request.composeOverride ?? result.stackOverride;
    if (written) result.composeOverride = path.resolve(written);
    return result;
  } finally {
    client.close();
    staged?.discard();
    if (madeStackDir && request.stackDir && !placed) await removeEmptyFolders(madeStackDir, request.stackDir);
    await rm(spool, { recursive: true, force: true });
  }
}

async function readCa(file: string): Promise<Buffer> {
  return readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new OfflineError(
      'EUSAGE',
      `--ca ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
      {
        file,
      },
    );
  });
}

/** The image archive is spooled once: refuse early, naming TMPDIR, when its folder has no room for it. */
async function checkSpoolRoom(spool: string, bytes: number): Promise<void> {
  const fs = await statfs(spool);
  const free = fs.bavail * fs.bsize;
  if (free < bytes) {
    throw new OfflineError('ENOSPACE', `${path.dirname(spool)}: no room to spool the image archive`, {
      file: path.dirname(spool),
      expected: bytes,
      found: free,
      hint: "set TMPDIR to a folder with room for the bundle's images/images.tar",
    });
  }
}
