import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;
const MTIME = { offset: 136, length: 12 };
const CHECKSUM = { offset: 148, length: 8 };

function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    // base-256, for entries of 8 GiB and more
    let size = 0;
    for (let i = 1; i < field.length; i++) size = size * 256 + (field[i] ?? 0);
    return size;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function setMtime(header: Buffer, seconds: number): void {
  header.write(`${seconds.toString(8).padStart(MTIME.length - 1, '0')}\0`, MTIME.offset, 'latin1');
  header.fill(0x20, CHECKSUM.offset, CHECKSUM.offset + CHECKSUM.length);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, CHECKSUM.offset, 'latin1');
}

/**
 * Passes a tar stream through unchanged except for the mtime of every header, set to `mtime`. `docker save`
 * stamps the folder of a layer that repeats an earlier one with the time of the save, so two saves of the same
 * images differ by those bytes only; with this they are the same. Content bytes are never touched or copied.
 */
export class TarMtimeNormalizer extends Transform {
  private readonly seconds: number;
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of entry data (padded to whole blocks) still to pass through before the next header. */
  private dataLeft = 0;
  private ended = false;

  constructor(mtime: Date) {
    super();
    this.seconds = Math.floor(mtime.getTime() / 1000);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.ended) {
        this.push(rest);
        break;
      }
      if (this.dataLeft > 0) {
        const take = Math.min(this.dataLeft, rest.length);
        this.push(rest.subarray(0, take));
        this.dataLeft -= take;
        rest = rest.subarray(take);
        continue;
      }
      const need = BLOCK - this.pending.length;
      this.pending = Buffer.concat([this.pending, rest.subarray(0, need)]);
      rest = rest.subarray(Math.min(need, rest.length));
      if (this.pending.length < BLOCK) break;
      const header = this.pending;
      this.pending = Buffer.alloc(0);
      if (header.every((b) => b === 0)) {
        this.ended = true; // end-of-archive blocks and any padding after them pass as they are
      } else {
        this.dataLeft = Math.ceil(entrySize(header) / BLOCK) * BLOCK;
        setMtime(header, this.seconds);
      }
      this.push(header);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending.length > 0) this.push(this.pending);
    callback();
  }
}
