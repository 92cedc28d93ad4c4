import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Digest } from '../checksum/hash-stream.js';
import { tempPathFor } from '../fs/atomic-file.js';
import { drained } from '../fs/drained.js';
import { partFileName } from './layout.js';

export interface WrittenFile extends Digest {
  /** Final path (after commit). */
  file: string;
}

/**
 * Writes a byte stream to `archiveName` in outDir, or, with splitSize, to numbered parts of at most
 * splitSize bytes, hashing the whole and each part as bytes are written. Everything goes to temp names;
 * commit() renames them into place, discard() removes them. Part names are known only at the end (their
 * count sets the digits), so parts are renamed at commit.
 */
export class SplitWriter extends Writable {
  private readonly whole: Hash = createHash('sha256');
  private total = 0;
  private current: { stream: WriteStream; temp: string; hash: Hash; size: number } | undefined;
  private readonly done: { temp: string; sha256: string; size: number }[] = [];

  constructor(
    private readonly outDir: string,
    private readonly archiveName: string,
    private readonly splitSize?: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeChunk(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeCurrent().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.current?.stream.destroy();
    callback(error);
  }

  private async writeChunk(chunk: Buffer): Promise<void> {
    if (this.destroyed) throw new Error('SplitWriter: write after destroy');
    this.whole.update(chunk);
    this.total += chunk.length;
    let rest = chunk;
    while (rest.length > 0) {
      const part = this.current ?? this.openPart();
      const room = this.splitSize === undefined ? rest.length : this.splitSize - part.size;
      const piece = rest.subarray(0, room);
      rest = rest.subarray(piece.length);
      part.hash.update(piece);
      part.size += piece.length;
      if (!part.stream.write(piece)) await drained(part.stream);
      if (this.destroyed) return;
      if (this.splitSize !== undefined && part.size >= this.splitSize) await this.closeCurrent();
    }
  }

  private openPart() {
    const temp = tempPathFor(path.join(this.outDir, `${this.archiveName}.part${this.done.length + 1}`));
    const stream = createWriteStream(temp, { flags: 'wx' });
    // A part's error (disk full, or a write still queued when an abort destroyed it) ends this writer; with no
    // listener it would be an uncaught exception.
    stream.on('error', (error) => this.destroy(error));
    this.current = {
      stream,
      temp,
      hash: createHash('sha256'),
      size: 0,
    };
    return this.current;
  }

  private async closeCurrent(): Promise<void> {
    const part = this.current;
    if (!part) return;
    this.current = undefined;
    await new Promise<void>((resolve, reject) => {
      part.stream.once('error', reject);
      part.stream.end(resolve);
    });
    this.done.push({ temp: part.temp, sha256: part.hash.digest('hex'), size: part.size });
  }

  /** The whole stream's digest (valid after finish). */
  get digest(): Digest {
    return { sha256: this.whole.digest('hex'), size: this.total };
  }

  /** The final names and digests, in order (valid after finish). */
  async files(): Promise<WrittenFile[]> {
    if (this.done.length === 0) {
      // An empty stream still gives a (zero-byte) archive.
      this.openPart();
      await this.closeCurrent();
    }
    const split = this.splitSize !== undefined;
    return this.done.map((part, index) => ({
      file: path.join(
        this.outDir,
        split ? partFileName(this.archiveName, index, this.done.length) : this.archiveName,
      ),
      sha256: part.sha256,
      size: part.size,
    }));
  }

  /**
   * Renames the temp files to their final names. If a rename fails, the ones already renamed are removed
   * again, so no partial set of parts is left.
   */
  async commit(): Promise<WrittenFile[]> {
    const files = await this.files();
    const renamed: string[] = [];
    try {
      for (const [index, written] of files.entries()) {
        await rename((this.done[index] as { temp: string }).temp, written.file);
        renamed.push(written.file);
      }
    } catch (error) {
      await Promise.all(renamed.map((file) => rm(file, { force: true })));
      throw error;
    }
    return files;
  }

  /**
   * Removes every temp file this writer made. A part begun just before a failure may still be opening: its
   * stream is closed first, or the open would create the file after it was removed.
   */
  async discard(): Promise<void> {
    const stream = this.current?.stream;
    if (stream && !stream.closed) {
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.destroy();
      });
    }
    const temps = [...this.done.map((p) => p.temp), ...(this.current ? [this.current.temp] : [])];
    await Promise.all(temps.map((temp) => rm(temp, { force: true })));
  }
}
