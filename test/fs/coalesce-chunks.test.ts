import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CoalesceChunks } from '../../src/fs/coalesce-chunks.js';

/** The chunks as the coalescer pushes them ('data' events: an async iterator would join buffered ones). */
async function sizesOut(chunks: Buffer[], size: number): Promise<{ sizes: number[]; bytes: Buffer }> {
  const out: Buffer[] = [];
  const coalesce = Readable.from(chunks).pipe(new CoalesceChunks(size));
  coalesce.on('data', (chunk: Buffer) => out.push(chunk));
  await finished(coalesce);
  return { sizes: out.map((c) => c.length), bytes: Buffer.concat(out) };
}

describe('CoalesceChunks', () => {
  it('merges small chunks up to the size, keeps the order, and passes the rest at the end', async () => {
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(300, i));
    const { sizes, bytes } = await sizesOut(chunks, 1000);
    expect(sizes).toEqual([1200, 1200, 600]);
    expect(bytes.equals(Buffer.concat(chunks))).toBe(true);
  });

  it('passes a chunk of the size or larger as it is when nothing is pending', async () => {
    const big = Buffer.alloc(5000, 7);
    const { sizes, bytes } = await sizesOut([big, Buffer.alloc(10, 1), big], 1000);
    expect(sizes).toEqual([5000, 5010]);
    expect(bytes.length).toBe(10_010);
  });
});
