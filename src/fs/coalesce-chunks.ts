import { Transform, type TransformCallback } from 'node:stream';

/** The size small chunks are merged up to before they are written. */
export const WRITE_CHUNK = 1024 * 1024;

/**
 * Merges small chunks into pieces of about `size` bytes; a chunk that size or larger passes as it is. The
 * engine's HTTP responses arrive in ~20 KiB pieces: written one by one, a 369 MB `docker save` reached disk in
 * 4.7-5.1 s, merged into 1 MiB writes in 3.3-3.5 s (`docker save -o`: 2.9-3.1 s), on 2 cores.
 */
export class CoalesceChunks extends Transform {
  private pending: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly size = WRITE_CHUNK) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.bytes === 0 && chunk.length >= this.size) {
      callback(null, chunk);
      return;
    }
    this.pending.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= this.size) this.pushPending();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.pushPending();
    callback();
  }

  private pushPending(): void {
    if (this.bytes === 0) return;
    this.push(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.bytes));
    this.pending = [];
    this.bytes = 0;
  }
}
