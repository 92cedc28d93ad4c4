import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import * as tar from 'tar';
import type { DockerEngine } from '../docker/engine.js';
import { OfflineError } from '../errors.js';
import { drained } from '../fs/drained.js';
import { type LoadPlan, type LoadRequest, planLoad, type SaveManifestEntry } from './load-plan.js';

const BLOCK = 512;
const MAX_JSON_BYTES = 64 * 1024 * 1024;
const WHERE = 'images/images.tar';

/** The first tar header of an image archive names manifest.json: the archive is in load order. */
export function inLoadOrder(head: Buffer): boolean {
  return head.length >= BLOCK && head.subarray(0, 14).toString('latin1') === 'manifest.json\0';
}

/**
 * Loads an image archive in load order (docs/bundle-format.md section 2) as several requests (planLoad): it
 * reads manifest.json and the configs at the archive's head, opens one request per planned load, routes each
 * layer file to the request that carries it as it streams, and closes each request once its files are written
 * and the requests it stacks on finished. Every request's stream objects are checked (engine.loadImages). On any
 * failure every request is aborted and the first error thrown; the made-up base images are removed either way
 * (the caller undoes the images loaded).
 */
export async function loadInRequests(
  engine: DockerEngine,
  archive: Readable,
  present: ReadonlySet<string>,
): Promise<void> {
  const json = new Map<string, Buffer>();
  let images: SaveManifestEntry[] | undefined;
  let run: PlanRun | undefined;
  let chain: Promise<void> = Promise.resolve();
  let failed: unknown;
  const parser = new tar.Parser({ strict: true });
  // A failure stops the wait for the archive's end at once: the reader then stops reading the media.
  let stop: (error: unknown) => void = () => {};
  const fail = (error: unknown) => {
    failed ??= error;
    run?.abort(error);
    // The parser may go on raising an error per damaged block: nothing more is written to it.
    archive.unpipe(parser);
    stop(error);
  };
  parser.on('error', fail);
  parser.on('entry', (entry: tar.ReadEntry) => {
    chain = chain
      .then(async () => {
        if (failed !== undefined) return void entry.resume();
        if (!images) {
          images = parseManifest(await readSmall(entry, 'manifest.json'));
          return;
        }
        if (!run) {
          if (!images.some((i) => i.Config === entry.path)) {
            throw new OfflineError('EFORMAT', `${WHERE}: ${entry.path} comes before the image configs end`, {
              file: WHERE,
            });
          }
          json.set(entry.path, checkConfig(entry.path, await readSmall(entry, entry.path)));
          if (images.every((i) => json.has(i.Config)))
            run = new PlanRun(engine, planLoad(images, json), json, fail);
          return;
        }
        await run.route(entry);
      })
      .catch((error) => {
        entry.resume();
        fail(error);
      });
  });
  try {
    archive.pipe(parser);
    await new Promise<void>((resolve, reject) => {
      stop = reject;
      if (failed !== undefined) reject(failed);
      parser.once('end', resolve);
      archive.once('error', reject);
      archive.once('close', () => {
        if (!archive.readableEnded) reject(new Error('the image archive stream closed before its end'));
      });
    });
    await chain;
    if (failed === undefined) {
      if (!run) throw new OfflineError('EFORMAT', `${WHERE}: ends before its image configs`, { file: WHERE });
      await run.finish();
    }
  } catch (error) {
    fail(error);
  } finally {
    await run?.settled();
    for (const id of run?.plan.baseImageIds ?? []) {
      if (!present.has(`sha256:${id}`)) await engine.removeImage(`sha256:${id}`).catch(() => {});
    }
  }
  if (failed !== undefined) throw failed;
}

/** The requests of one plan in flight: their archives being written and their loads. */
class PlanRun {
  private readonly bodies: PassThrough[];
  private readonly loads: Promise<unknown>[];
  private readonly missing: Set<string>[];
  private readonly byLayer = new Map<string, number>();
  private error: unknown;

  constructor(
    engine: DockerEngine,
    readonly plan: LoadPlan,
    json: Map<string, Buffer>,
    private readonly onError: (error: unknown) => void,
  ) {
    this.bodies = plan.requests.map(() => new PassThrough({ highWaterMark: 1024 * 1024 }));
    this.missing = plan.requests.map((r) => new Set(r.layers));
    plan.requests.forEach((r, i) => {
      for (const layer of r.layers) this.byLayer.set(layer, i);
    });
    this.loads = this.bodies.map((body) => engine.loadImages(body));
    for (const load of this.loads) load.catch(onError);
    plan.requests.forEach((request, i) => {
      const body = this.bodies[i] as PassThrough;
      const bytes = request.config.bytes ?? (json.get(request.config.path) as Buffer);
      body.write(fileEntry(request.config.path, bytes));
      if (request.layers.length === 0) this.close(i);
    });
  }

  /** Writes a layer file into the request that carries it; anything else in the archive is passed over. */
  async route(entry: tar.ReadEntry): Promise<void> {
    const index = this.byLayer.get(entry.path);
    const missing = index === undefined ? undefined : this.missing[index];
    // Only a layer file a request still waits for: a second copy of a path is passed over like any other entry.
    if (index === undefined || !missing?.has(entry.path) || !isFile(entry)) {
      return void entry.resume();
    }
    const body = this.bodies[index] as PassThrough;
    body.write(header(entry.path, entry.size));
    for await (const chunk of entry) {
      if (this.error !== undefined) throw this.error;
      if (!body.write(chunk as Buffer)) await drained(body);
    }
    body.write(Buffer.alloc(padding(entry.size)));
    missing.delete(entry.path);
    if (missing.size === 0) this.close(index);
  }

  /** The archive ended: every planned layer must have come; then every load must finish. */
  async finish(): Promise<void> {
    const waiting = this.missing.find((layers) => layers.size > 0);
    if (waiting) {
      const [layer] = waiting;
      throw new OfflineError('EFORMAT', `${WHERE}: ${layer}, named in its manifest.json, is not in it`, {
        file: WHERE,
      });
    }
    await Promise.all(this.loads);
    if (this.error !== undefined) throw this.error;
  }

  abort(error: unknown): void {
    if (this.error !== undefined) return;
    this.error = error;
    const reason = error instanceof Error ? error : new Error(String(error));
    for (const body of this.bodies) body.destroy(reason);
  }

  /** Waits until no load is in flight any more (after a failure too), so nothing is added after the undo. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.loads);
  }

  /** Ends request `index`'s archive (its manifest.json last) once the requests it stacks on finished. */
  private close(index: number): void {
    const request = this.plan.requests[index] as LoadRequest;
    Promise.all(request.after.map((i) => this.loads[i]))
      .then(() => {
        const body = this.bodies[index] as PassThrough;
        if (body.destroyed) return;
        body.write(fileEntry('manifest.json', Buffer.from(JSON.stringify([request.entry]))));
        body.end(Buffer.alloc(2 * BLOCK));
      })
      .catch(this.onError);
  }
}

function parseManifest(bytes: Buffer): SaveManifestEntry[] {
  const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (m: Partial<SaveManifestEntry>) =>
        typeof m.Config === 'string' &&
        Array.isArray(m.Layers) &&
        m.Layers.every((l) => typeof l === 'string'),
    );
  if (!valid)
    throw new OfflineError('EFORMAT', `${WHERE}: manifest.json is not a list of images`, { file: WHERE });
  return parsed as SaveManifestEntry[];
}

/**
 * An image config is named by its sha256 (`<id>.json`, or `blobs/sha256/<id>` in the OCI layout), which the
 * engine does not check on load: damaged bytes would load an image with another ID under the bundle's tags.
 */
function checkConfig(name: string, bytes: Buffer): Buffer {
  const named = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(name)?.[1];
  const found = createHash('sha256').update(bytes).digest('hex');
  if (named !== undefined && named !== found) {
    throw new OfflineError('EINTEGRITY', `${WHERE}: image config ${name} does not match its name`, {
      file: WHERE,
      expected: named,
      found,
    });
  }
  return bytes;
}

async function readSmall(entry: tar.ReadEntry, name: string): Promise<Buffer> {
  if (entry.path !== name || !isFile(entry) || entry.size > MAX_JSON_BYTES) {
    throw new OfflineError('EFORMAT', `${WHERE}: expected ${name}, found ${entry.path}`, { file: WHERE });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A regular file (ustar type 0, or the older NUL type). */
function isFile(entry: tar.ReadEntry): boolean {
  return entry.type === 'File' || entry.type === 'OldFile';
}

function header(path: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  new tar.Header({ path, size, mode: 0o644, mtime: new Date(0), type: 'File' }).encode(block, 0);
  return block;
}

function fileEntry(path: string, bytes: Buffer): Buffer {
  return Buffer.concat([header(path, bytes.length), bytes, Buffer.alloc(padding(bytes.length))]);
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
