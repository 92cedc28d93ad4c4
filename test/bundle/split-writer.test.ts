import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SplitWriter } from '../../src/bundle/split-writer.js';
import { tempDir } from '../support/temp-dir.js';

/** Lets the thread pool finish what it was doing (an open still pending when a writer was destroyed). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('SplitWriter', () => {
  it('writes parts of at most splitSize bytes under temp names, and commit gives them their names', async () => {
    const dir = await tempDir();
    const writer = new SplitWriter(dir, 'b.tar', 4);
    writer.end(Buffer.from('0123456789'));
    await new Promise((resolve, reject) => writer.once('finish', resolve).once('error', reject));
    expect((await readdir(dir)).every((name) => name.endsWith('.tmp'))).toBe(true);
    const files = await writer.commit();
    expect(files.map((f) => [path.basename(f.file), f.size])).toEqual([
      ['b.tar.part001', 4],
      ['b.tar.part002', 4],
      ['b.tar.part003', 2],
    ]);
    expect(await readFile(path.join(dir, 'b.tar.part003'), 'utf8')).toBe('89');
    expect((await readdir(dir)).sort()).toEqual(['b.tar.part001', 'b.tar.part002', 'b.tar.part003']);
  });

  it('discard leaves nothing, even when a part it just began is still being opened', async () => {
    // Destroyed right after its first write (as a failing compressor's pipeline does), the part's file is not
    // open yet: discard must wait for its stream to close before removing it, or the open creates it after.
    for (let i = 0; i < 20; i++) {
      const dir = await tempDir();
      const writer = new SplitWriter(dir, 'b.tar.zst');
      writer.on('error', () => {});
      writer.write(Buffer.from('partial'));
      writer.destroy(new Error('the compressor failed'));
      await writer.discard();
      await settle();
      expect(await readdir(dir)).toEqual([]);
    }
  });
});
