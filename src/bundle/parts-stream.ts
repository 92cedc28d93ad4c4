import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { OfflineError } from '../errors.js';
import type { BundleLocation } from './locate.js';

const READ_CHUNK = 1024 * 1024;

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

  constructor(
    private readonly location: BundleLocation,
    private readonly onBadPart: (error: OfflineError) => void,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    this.stream = Readable.from(this.read(), { objectMode: false });
  }

  private async *read(): AsyncGenerator<Buffer> {
    for (; this.index < this.location.parts.length; this.index++) {
      const file = this.location.parts[this.index] as string;
      const part = { file, hash: createHash('sha256'), offset: 0 };
      this.current = part;
      for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK })) {
        part.hash.update(chunk as Buffer);
        part.offset += (chunk as Buffer).length;
        this.bytes += (chunk as Buffer).length;
        this.onBytes?.(this.bytes);
        yield chunk as Buffer;
      }
      this.current = undefined;
      const bad = this.check(file, part.hash.digest('hex'));
      if (bad) this.onBadPart(bad);
    }
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

async function hashRest(file: string, hash: Hash, offset: number): Promise<string> {
  for await (const chunk of createReadStream(file, { start: offset, highWaterMark: READ_CHUNK })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
