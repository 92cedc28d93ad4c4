import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultParallelism,
  GZIP_BLOCK,
  MAX_IN_FLIGHT,
  ParallelGzip,
} from '../../src/bundle/parallel-gzip.js';

/** Some compressible bytes over several blocks, ending part-way through one, fed in odd-sized chunks. */
function input(): Buffer {
  const text = Buffer.from('2026-11-23T10:00:00Z INFO request served in 12 ms\n'.repeat(100_000));
  return Buffer.concat([text, randomBytes(GZIP_BLOCK), text.subarray(0, 12_345)]);
}

async function compress(data: Buffer, parallel: number): Promise<Buffer> {
  const chunks = [];
  for (let at = 0; at < data.length; at += 777_777) chunks.push(data.subarray(at, at + 777_777));
  return buffer(Readable.from(chunks).pipe(new ParallelGzip(6, parallel)));
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('ParallelGzip', () => {
  const saved = process.env.UV_THREADPOOL_SIZE;
  afterEach(() => {
    if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE;
    else process.env.UV_THREADPOOL_SIZE = saved;
  });

  it('writes the same bytes whatever the number of blocks in flight, and gunzip restores the input', async () => {
    const data = input();
    expect(data.length).toBeGreaterThan(2 * GZIP_BLOCK);
    const outputs = await Promise.all([1, 2, 4, 7].map((parallel) => compress(data, parallel)));
    expect(new Set(outputs.map(sha256)).size).toBe(1);
    expect(sha256(gunzipSync(outputs[0] as Buffer))).toBe(sha256(data));
  });

  it('keeps one block in flight per libuv thread by default (4 unless UV_THREADPOOL_SIZE says otherwise), at most 4', () => {
    delete process.env.UV_THREADPOOL_SIZE;
    expect(defaultParallelism()).toBe(4);
    process.env.UV_THREADPOOL_SIZE = '2';
    expect(defaultParallelism()).toBe(2);
    process.env.UV_THREADPOOL_SIZE = '128';
    expect(defaultParallelism()).toBe(MAX_IN_FLIGHT);
    expect(MAX_IN_FLIGHT).toBe(4);
    process.env.UV_THREADPOOL_SIZE = 'many';
    expect(defaultParallelism()).toBe(4);
  });
});
