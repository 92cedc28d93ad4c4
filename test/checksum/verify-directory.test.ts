import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHECKSUMS_FILE,
  createChecksums,
  verifyDirectory,
  verifyEntries,
} from '../../src/checksum/directory.js';
import { hashFile } from '../../src/checksum/hash-file.js';
import { tempDir } from '../support/temp-dir.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('offline-verify-');
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

describe('createChecksums', () => {
  it('lists every file under the folder, sorted, with sizes, and leaves out the list itself', async () => {
    const dir = await folder({ 'b.txt': 'bee\n', 'a/c.txt': 'sea\n', 'a/数据 file.txt': '中文\n' });
    const entries = await createChecksums(dir);
    expect(entries.map((e) => [e.path, e.size])).toEqual([
      ['a/c.txt', 4],
      ['a/数据 file.txt', 7],
      ['b.txt', 4],
    ]);
    const again = await createChecksums(dir);
    expect(again).toEqual(entries);
    const text = await readFile(path.join(dir, CHECKSUMS_FILE), 'utf8');
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(66)),
    ).toEqual(['a/c.txt', 'a/数据 file.txt', 'b.txt']);
  });

  it('hashes an empty file to the sha256 of nothing', async () => {
    const dir = await folder({ empty: '' });
    expect(await createChecksums(dir)).toEqual([{ path: 'empty', sha256: EMPTY_SHA256, size: 0 }]);
    expect(await verifyDirectory(dir)).toMatchObject({ ok: true, problems: [] });
  });

  it('writes an empty list for an empty folder, and that list verifies', async () => {
    const dir = await folder({});
    expect(await createChecksums(dir)).toEqual([]);
    expect(await readFile(path.join(dir, CHECKSUMS_FILE), 'utf8')).toBe('');
    expect(await verifyDirectory(dir)).toMatchObject({ ok: true, verified: [] });
  });

  it('follows a symlink to a file inside the folder, as sha256sum does', async () => {
    const dir = await folder({ 'real.txt': 'data' });
    await symlink('real.txt', path.join(dir, 'link.txt'));
    const entries = await createChecksums(dir);
    expect(entries.map((e) => e.path)).toEqual(['link.txt', 'real.txt']);
    expect(entries[0]?.sha256).toBe(entries[1]?.sha256);
  });

  it('refuses a folder that does not exist with EUSAGE', async () => {
    const dir = await folder({});
    await expect(createChecksums(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'EUSAGE' });
  });
});

describe('verifyDirectory', () => {
  it('reports every problem at once, each with its code', async () => {
    const dir = await folder({ 'same.txt': 'same', 'changed.txt': 'before', 'gone.txt': 'here' });
    const [changed] = (await createChecksums(dir)).filter((e) => e.path === 'changed.txt');
    await writeFile(path.join(dir, 'changed.txt'), 'after!');
    await rm(path.join(dir, 'gone.txt'));
    await writeFile(path.join(dir, 'extra.txt'), 'nobody listed me');
    const list = path.join(dir, CHECKSUMS_FILE);
    await writeFile(list, `${await readFile(list, 'utf8')}this line is junk\n`);

    const result = await verifyDirectory(dir);
    expect(result.ok).toBe(false);
    expect(result.verified.map((e) => e.path)).toEqual(['same.txt']);
    expect(result.problems).toMatchObject([
      { code: 'EMANIFEST', message: expect.stringContaining(`${CHECKSUMS_FILE}:4:`) },
      {
        code: 'EINTEGRITY',
        file: 'changed.txt',
        expected: changed?.sha256,
        found: (await hashFile(path.join(dir, 'changed.txt'))).sha256,
      },
      { code: 'EUNLISTED', file: 'extra.txt' },
      { code: 'EMISSING', file: 'gone.txt' },
    ]);
  });

  it('accepts unlisted files with allowUnlisted, and ignores the named extras', async () => {
    const dir = await folder({ 'a.txt': 'a' });
    await createChecksums(dir);
    await writeFile(path.join(dir, 'report.json'), '{}');
    expect((await verifyDirectory(dir)).problems).toMatchObject([{ code: 'EUNLISTED', file: 'report.json' }]);
    expect(await verifyDirectory(dir, { allowUnlisted: true })).toMatchObject({ ok: true });
    expect(await verifyDirectory(dir, { ignore: ['report.json'] })).toMatchObject({ ok: true });
  });

  it('reads a list with CRLF line ends and a BOM, passing the notes on', async () => {
    const dir = await folder({ 'a.txt': 'a', 'b.txt': 'b' });
    await createChecksums(dir);
    const list = path.join(dir, CHECKSUMS_FILE);
    await writeFile(list, `\uFEFF${(await readFile(list, 'utf8')).replace(/\n/g, '\r\n')}`);
    const result = await verifyDirectory(dir);
    expect(result).toMatchObject({ ok: true, problems: [] });
    expect(result.verified.map((e) => e.path)).toEqual(['a.txt', 'b.txt']);
    expect(result.notes).toEqual([
      expect.stringContaining('byte-order mark'),
      expect.stringContaining('CRLF'),
    ]);
  });

  it('never reads outside the folder: an absolute or "../" entry is a problem, the file is not hashed', async () => {
    const parent = await folder({ 'secret.txt': 'outside', 'inner/a.txt': 'a' });
    const dir = path.join(parent, 'inner');
    const [entry] = await createChecksums(dir);
    const outside = await hashFile(path.join(parent, 'secret.txt'));
    await writeFile(
      path.join(dir, CHECKSUMS_FILE),
      `${entry?.sha256}  a.txt\n${outside.sha256}  ../secret.txt\n${outside.sha256}  ${path.join(parent, 'secret.txt')}\n`,
    );
    const result = await verifyDirectory(dir);
    expect(result.verified.map((e) => e.path)).toEqual(['a.txt']);
    expect(result.problems).toMatchObject([
      { code: 'EUNSAFE_PATH', found: '../secret.txt' },
      { code: 'EUNSAFE_PATH', found: path.join(parent, 'secret.txt') },
    ]);
  });

  it('reports a duplicate entry once and still verifies the file', async () => {
    const dir = await folder({ 'a.txt': 'a' });
    await createChecksums(dir);
    const list = path.join(dir, CHECKSUMS_FILE);
    const line = await readFile(list, 'utf8');
    await writeFile(list, line + line);
    const result = await verifyDirectory(dir);
    expect(result.verified.map((e) => e.path)).toEqual(['a.txt']);
    expect(result.problems).toMatchObject([{ code: 'EMANIFEST', message: expect.stringContaining(':2:') }]);
  });

  it('says how to make the list when it is missing (EMISSING)', async () => {
    const dir = await folder({ 'a.txt': 'a' });
    await expect(verifyDirectory(dir)).rejects.toMatchObject({
      code: 'EMISSING',
      hint: expect.stringContaining('offline checksum create'),
    });
  });

  it('refuses a folder that does not exist with EUSAGE', async () => {
    const dir = await folder({});
    await expect(verifyDirectory(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'EUSAGE' });
  });

  it('covers a folder of 10,000 small files, and finds the one that changed', async () => {
    const dir = await folder({});
    for (let d = 0; d < 100; d++) {
      const sub = path.join(dir, `d${String(d).padStart(3, '0')}`);
      mkdirSync(sub);
      for (let f = 0; f < 100; f++) writeFileSync(path.join(sub, `f${f}.txt`), `file ${d}/${f}\n`);
    }
    const entries = await createChecksums(dir);
    expect(entries).toHaveLength(10_000);
    expect(new Set(entries.map((e) => e.sha256)).size).toBe(10_000);
    expect(await verifyDirectory(dir)).toMatchObject({ ok: true, problems: [] });
    await writeFile(path.join(dir, 'd042/f7.txt'), 'changed\n');
    const result = await verifyDirectory(dir);
    expect(result.verified).toHaveLength(9_999);
    expect(result.problems).toMatchObject([{ code: 'EINTEGRITY', file: 'd042/f7.txt' }]);
  });
});

describe('verifyEntries', () => {
  it('reports a size that differs as EBADSIZE without hashing, where the size is known', async () => {
    const dir = await folder({ 'a.bin': 'abcdef', 'b.bin': 'xyz' });
    const entries = await createChecksums(dir);
    await truncate(path.join(dir, 'a.bin'), 3);
    const result = await verifyEntries(dir, entries);
    expect(result.verified.map((e) => e.path)).toEqual(['b.bin']);
    expect(result.problems).toMatchObject([{ code: 'EBADSIZE', file: 'a.bin', expected: 6, found: 3 }]);
  });

  it('falls back to the hash where no size is known', async () => {
    const dir = await folder({ 'a.bin': 'abcdef' });
    const [entry] = await createChecksums(dir);
    await truncate(path.join(dir, 'a.bin'), 3);
    const result = await verifyEntries(dir, [{ path: 'a.bin', sha256: entry?.sha256 ?? '' }]);
    expect(result.problems).toMatchObject([{ code: 'EINTEGRITY', file: 'a.bin', expected: entry?.sha256 }]);
  });

  it('reports an unsafe path in the entries as a problem instead of throwing', async () => {
    const dir = await folder({ 'a.bin': 'a' });
    const [entry] = await createChecksums(dir);
    const result = await verifyEntries(dir, [
      ...(entry ? [entry] : []),
      { path: '../x', sha256: EMPTY_SHA256 },
    ]);
    expect(result.verified.map((e) => e.path)).toEqual(['a.bin']);
    expect(result.problems).toMatchObject([{ code: 'EUNSAFE_PATH', found: '../x' }]);
  });

  it('reports a listed directory as EMISSING (not a file)', async () => {
    const dir = await folder({ 'sub/a.bin': 'a' });
    const result = await verifyEntries(dir, [{ path: 'sub', sha256: EMPTY_SHA256 }], { allowUnlisted: true });
    expect(result.problems).toMatchObject([{ code: 'EMISSING', file: 'sub' }]);
  });
});
