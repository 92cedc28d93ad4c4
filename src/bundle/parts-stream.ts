import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileReadResult, open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { OfflineError } from '../errors.js';
import type { BundleLocation } from './locate.js';

const READ_CHUNK = 1024 * 1024;
/**
 * The first read of a bundle is this small, and each next one twice as large up to READ_CHUNK. Its lists come
 * first, and zlib hands on what it inflated from one read as soon as that read is used up: the manifest is checked
 * (and the pre-flight begun) once 64 KiB are inflated, not a whole MiB: about 6 ms sooner in re-imports of the
 * import benchmark's bundle (time marks, five runs each). A read that stops before the image archives (a re-import)
 * has also read less by then.
 */
const HEAD_READ = 64 * 1024;

/**
 * The archive's bytes as one stream, its parts joined in order with no joined copy on disk. Each part is hashed
 * as it is read and checked against the sidecar at its end; a bad part goes to `onBadPart` (which may throw to
 * stop the read, or collect and go on).
 */
export class PartsSource {
  readonly stream: Readable;
  private current: { file: string; hash: Hash; offset: number } | undefined;
  private index = 0;
  private bytes = 0;
  /** Parts found to differ, in order. */
  private readonly bad: OfflineError[] = [];
  /** While set, no further bytes are taken in (see holdWhile). */
  private held: Promise<unknown> | undefined;
  /** Set once every part was read to its end. */
  private readAll = false;

  constructor(
    private readonly location: BundleLocation,
    private readonly onBadPart: (error: OfflineError) => void,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    this.stream = Readable.from(this.read(), { objectMode: false });
  }

  /**
   * Takes no further bytes in until `work` settles, and returns it. The reader holds the bundle while its handler
   * decides from the lists what it needs: a re-import needs nothing past the head, and the bytes read ahead
   * meanwhile (3-4 MiB of the import benchmark's bundle, each read hashed and inflated) were work thrown away that
   * the decision had to share the CPU with.
   */
  holdWhile<T>(work: Promise<T>): Promise<T> {
    const held = work.then(
      () => {},
      () => {},
    );
    this.held = held;
    void held.then(() => {
      if (this.held === held) this.held = undefined;
    });
    return work;
  }

  private async *read(): AsyncGenerator<Buffer> {
    for (; this.index < this.location.parts.length; this.index++) {
      const file = this.location.parts[this.index] as string;
      const part = { file, hash: createHash('sha256'), offset: 0 };
      this.current = part;
      const first = this.index === 0 ? HEAD_READ : READ_CHUNK;
      for await (const chunk of chunksOf(file, first, () => this.held)) {
        part.hash.update(chunk);
        part.offset += chunk.length;
        this.bytes += chunk.length;
        this.onBytes?.(this.bytes);
        yield chunk;
      }
      this.current = undefined;
      const bad = this.check(file, part.hash.digest('hex'));
      if (bad) this.onBadPart(bad);
    }
    this.readAll = true;
  }

  /** Whether every part was read to its end: damage found then may be the end of what is here. */
  get readToEnd(): boolean {
    return this.readAll;
  }

  /**
   * After the read stopped on an error: hashes what is left of the part being read (and, with `all`, every part
   * not read yet) and returns every part found to differ from the sidecar. A decoder error inside a bad part is then
   * reported as that part, the file to copy again. Reads at most the unread rest of the media.
   */
  async settle(all: boolean): Promise<OfflineError[]> {
    if (this.location.expected.size === 0) return [];
    const bad = this.bad;
    const part = this.current;
    const index = this.index;
    // A copy of the running hash: the generator may still be winding down and finish the original.
    const running = part && { file: part.file, hash: part.hash.copy(), offset: part.offset };
    if (running) this.check(running.file, await hashRest(running.file, running.hash, running.offset));
    if (all) {
      const first = part ? index + 1 : index;
      for (const file of this.location.parts.slice(first)) {
        this.check(file, await hashRest(file, createHash('sha256'), 0));
      }
    }
    return bad;
  }

  private check(file: string, found: string): OfflineError | undefined {
    const name = path.basename(file);
    const expected = this.location.expected.get(name);
    if (expected === undefined || expected === found) return undefined;
    const known = this.bad.find((e) => e.file === name);
    if (known) return known;
    const sidecar = path.basename(this.location.sidecar ?? 'the sidecar');
    const error = new OfflineError(
      'EINTEGRITY',
      `${name}: sha256 differs from ${sidecar}; copy this file again`,
      {
        file: name,
        expected,
        found,
      },
    );
    this.bad.push(error);
    return error;
  }
}

/**
 * A file's bytes, in reads that double from `first` up to READ_CHUNK, the next read under way while a chunk is
 * used. `ready` is awaited before each next read is begun.
 */
async function* chunksOf(
  file: string,
  first: number,
  ready: () => Promise<unknown> | undefined,
): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  const readAt = (position: number, size: number) => handle.read(Buffer.allocUnsafe(size), 0, size, position);
  let pending: Promise<FileReadResult<Buffer>> | undefined;
  try {
    let size = first;
    let position = 0;
    pending = readAt(position, size);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      pending = undefined;
      if (bytesRead === 0) return;
      position += bytesRead;
      size = Math.min(size * 2, READ_CHUNK);
      await ready();
      pending = readAt(position, size);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    // A read left under way when the consumer stops is waited for: the handle is closed after it.
    await pending?.catch(() => {});
    await handle.close();
  }
}

async function hashRest(file: string, hash: Hash, offset: number): Promise<string> {
  for await (const chunk of createReadStream(file, { start: offset, highWaterMark: READ_CHUNK })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
