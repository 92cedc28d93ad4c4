import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type * as zlib from 'node:zlib';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { GZIP_BLOCK, MAX_IN_FLIGHT, ParallelGzip } from '../../src/bundle/parallel-gzip.js';

/** Every block handed to zlib's gzip is counted and reported; the real gzip still does the work. */
const gzipCalls = vi.hoisted(() => ({ count: 0, onStart: undefined as (() => void) | undefined }));

vi.mock('node:zlib', async (importOriginal) => {
  const real = await importOriginal<typeof zlib>();
  const gzip = (input: Buffer, options: zlib.ZlibOptions, callback: zlib.CompressCallback) => {
    gzipCalls.count++;
    gzipCalls.onStart?.();
    real.gzip(input, options, callback);
  };
  return { ...real, gzip, default: { ...real, gzip } };
});

/** Counts the members it writes: blocks in flight = blocks started - members written. */
class Counting extends ParallelGzip {
  written = 0;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null) this.written++;
    return super.push(chunk, encoding);
  }
}

describe('ParallelGzip: blocks in flight', () => {
  it(`holds at most ${MAX_IN_FLIGHT} blocks in flight by default, even with UV_THREADPOOL_SIZE=128`, async () => {
    vi.stubEnv('UV_THREADPOOL_SIZE', '128');
    const blocks = 3 * MAX_IN_FLIGHT;
    const block = Buffer.alloc(GZIP_BLOCK, 'a');
    const gz = new Counting(1);
    const before = gzipCalls.count;
    let peak = 0;
    gzipCalls.onStart = () => {
      peak = Math.max(peak, gzipCalls.count - before - gz.written);
    };
    try {
      const out = await buffer(Readable.from(Array.from({ length: blocks }, () => block)).pipe(gz));
      expect(gzipCalls.count - before).toBe(blocks);
      expect(gz.written).toBe(blocks);
      expect(peak).toBe(MAX_IN_FLIGHT);
      expect(gunzipSync(out).equals(Buffer.alloc(blocks * GZIP_BLOCK, 'a'))).toBe(true);
    } finally {
      gzipCalls.onStart = undefined;
    }
  });
});
