import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tempPathFor, writeStreamAtomic } from '../../src/fs/atomic-file.js';
import { tempDir } from '../support/temp-dir.js';

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
/** Size and sha256 of `text`: a source pinned to 64 KiB or less is taken whole, checked, then written. */
const pinned = (text: string) => ({ sha256: sha256(text), size: Buffer.byteLength(text) });

/** A source that yields some bytes and then fails, like a download cut off half way. */
function failingSource(after: string): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.from(after);
      throw new Error('connection reset');
    })(),
  );
}

describe('writeStreamAtomic', () => {
  it('writes the bytes to dest and returns their digest, leaving no temp file', async () => {
    const dir = await tempDir();
    const dest = path.join(dir, 'out.txt');
    const digest = await writeStreamAtomic(Readable.from(['hello ', 'world']), dest);
    expect(digest).toEqual({ sha256: sha256('hello world'), size: 11 });
    expect(await readFile(dest, 'utf8')).toBe('hello world');
    expect(await readdir(dir)).toEqual(['out.txt']);
  });

  it('replaces an existing file by default', async () => {
    const dir = await tempDir();
    const dest = path.join(dir, 'out.txt');
    await writeFile(dest, 'old');
    await writeStreamAtomic(Readable.from(['new']), dest);
    expect(await readFile(dest, 'utf8')).toBe('new');
  });

  it.each([
    ['streamed (its sha256 expected)', { sha256: sha256('good bytes') }],
    ['taken whole (its size pinned too)', pinned('good bytes')],
  ])(
    'renames into place only when the expected sha256 matches (EINTEGRITY otherwise): %s',
    async (_, expected) => {
      const dir = await tempDir();
      const dest = path.join(dir, 'out.txt');
      await writeFile(dest, 'keep me');
      await expect(
        writeStreamAtomic(Readable.from(['bad bytes!']), dest, { expected }),
      ).rejects.toMatchObject({
        code: 'EINTEGRITY',
        expected: sha256('good bytes'),
        found: sha256('bad bytes!'),
      });
      expect(await readFile(dest, 'utf8')).toBe('keep me');
      expect(await readdir(dir)).toEqual(['out.txt']);
    },
  );

  it('refuses a size that differs with EBADSIZE, naming the label', async () => {
    const dir = await tempDir();
    const dest = path.join(dir, 'out.txt');
    await expect(
      writeStreamAtomic(Readable.from(['12345']), dest, { expected: { size: 6 }, label: 'http://x/file' }),
    ).rejects.toMatchObject({ code: 'EBADSIZE', file: 'http://x/file', expected: 6, found: 5 });
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    ['streamed', undefined],
    ['taken whole (its size pinned)', pinned('partial and more')],
  ])(
    'removes the temp file and leaves dest untouched when the source fails half way: %s',
    async (_, expected) => {
      const dir = await tempDir();
      const dest = path.join(dir, 'out.txt');
      await writeFile(dest, 'original');
      await expect(writeStreamAtomic(failingSource('partial'), dest, { expected })).rejects.toThrow(
        'connection reset',
      );
      expect(await readFile(dest, 'utf8')).toBe('original');
      expect(await readdir(dir)).toEqual(['out.txt']);
    },
  );

  it('leaves no temp file when the source fails before its first byte', async () => {
    const dir = await tempDir();
    const source = new Readable({
      read() {
        this.destroy(new Error('refused'));
      },
    });
    await expect(writeStreamAtomic(source, path.join(dir, 'out.txt'))).rejects.toThrow('refused');
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    ['streamed', undefined],
    ['taken whole (its size pinned)', pinned('mine')],
  ])(
    'with noClobber refuses to overwrite an existing file (EEXIST) and cleans up: %s',
    async (_, expected) => {
      const dir = await tempDir();
      const dest = path.join(dir, 'out.txt');
      await writeFile(dest, "the user's file");
      await expect(
        writeStreamAtomic(Readable.from(['mine']), dest, { expected, noClobber: true }),
      ).rejects.toMatchObject({ code: 'EEXIST', file: dest });
      expect(await readFile(dest, 'utf8')).toBe("the user's file");
      expect(await readdir(dir)).toEqual(['out.txt']);
    },
  );

  it('with noClobber writes a file that does not exist yet', async () => {
    const dir = await tempDir();
    const dest = path.join(dir, 'out.txt');
    await writeStreamAtomic(Readable.from(['fresh']), dest, { noClobber: true });
    expect(await readFile(dest, 'utf8')).toBe('fresh');
    expect(await readdir(dir)).toEqual(['out.txt']);
  });

  it('fails cleanly when the destination folder does not exist', async () => {
    const dir = await tempDir();
    await expect(
      writeStreamAtomic(Readable.from(['x']), path.join(dir, 'missing', 'out.txt')),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('writeStreamAtomic of a source pinned to 64 KiB or less (taken whole, checked, then written)', () => {
  it('writes it and returns its digest, leaving no temp file', async () => {
    const dir = await tempDir();
    const dest = path.join(dir, 'out.txt');
    const digest = await writeStreamAtomic(Readable.from([Buffer.from('hello '), 'world']), dest, {
      expected: pinned('hello world'),
    });
    expect(digest).toEqual(pinned('hello world'));
    expect(await readFile(dest, 'utf8')).toBe('hello world');
    expect(await readdir(dir)).toEqual(['out.txt']);
  });

  it('refuses more bytes than pinned (EBADSIZE with the whole count), dest untouched', async () => {
    const dir = await tempDir();
    const dest = path.join(dir, 'out.txt');
    await writeFile(dest, 'keep me');
    const source = Readable.from([Buffer.alloc(40_000), Buffer.alloc(40_000)]);
    await expect(writeStreamAtomic(source, dest, { expected: { size: 40_000 } })).rejects.toMatchObject({
      code: 'EBADSIZE',
      expected: 40_000,
      found: 80_000,
    });
    expect(await readFile(dest, 'utf8')).toBe('keep me');
    expect(await readdir(dir)).toEqual(['out.txt']);
  });

  it('streams a source pinned to one byte more, with the same result', async () => {
    const dir = await tempDir();
    const dest = path.join(dir, 'out.bin');
    const text = 'x'.repeat(64 * 1024 + 1);
    expect(await writeStreamAtomic(Readable.from([text]), dest, { expected: pinned(text) })).toEqual(
      pinned(text),
    );
    expect(await readFile(dest, 'utf8')).toBe(text);
  });
});

describe('tempPathFor', () => {
  it('names a hidden, unique file beside dest', () => {
    const a = tempPathFor('/data/bundle.tar');
    expect(path.dirname(a)).toBe('/data');
    expect(path.basename(a)).toMatch(/^\.bundle\.tar\.[0-9a-f]{12}\.tmp$/);
    expect(tempPathFor('/data/bundle.tar')).not.toBe(a);
  });
});
