import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import ssri from 'ssri';

export interface Digest {
  /** Lower-case hex sha256. */
  sha256: string;
  size: number;
}

/** The ssri integrity string ("sha256-<base64>") for a hex sha256, for structured manifests. */
export function integrityOf(sha256Hex: string): string {
  return ssri.fromHex(sha256Hex, 'sha256').toString();
}

/**
 * A pass-through stream that hashes every byte that flows through it. `digest` resolves when the stream ends.
 * Put it between a source and a sink so the data is hashed while written, never by reading it again.
 */
export class HashStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private result: Digest | undefined;

  /** onBytes, if given, is called with the running byte count after each chunk (for progress). */
  constructor(private readonly onBytes?: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = { sha256: this.hash.digest('hex'), size: this.bytes };
    callback();
  }

  /** Bytes seen so far (for progress). */
  get size(): number {
    return this.bytes;
  }

  /** The digest; only valid after the stream has finished. */
  get digest(): Digest {
    if (!this.result) throw new Error('HashStream: digest read before the stream finished');
    return this.result;
  }
}
