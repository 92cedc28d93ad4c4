import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { walkFiles } from '../../src/fs/walk.js';
import { tempDir } from '../support/temp-dir.js';

describe('walkFiles', () => {
  it('lists every regular file with its POSIX path and size, sorted by path bytes', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'b/c'), { recursive: true });
    await writeFile(path.join(dir, 'b/c/deep.txt'), '12345');
    await writeFile(path.join(dir, 'B.txt'), '1');
    await writeFile(path.join(dir, 'a b.txt'), '');
    await writeFile(path.join(dir, '中.txt'), '中');
    const files = await walkFiles(dir);
    expect(files.map((f) => [f.relative, f.size])).toEqual([
      ['B.txt', 1],
      ['a b.txt', 0],
      ['b/c/deep.txt', 5],
      ['中.txt', 3],
    ]);
    expect(files[2]?.absolute).toBe(path.join(dir, 'b/c/deep.txt'));
  });

  it('leaves out the excluded paths', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'checksums.sha256'), '');
    await writeFile(path.join(dir, 'data'), '');
    expect((await walkFiles(dir, { exclude: new Set(['checksums.sha256']) })).map((f) => f.relative)).toEqual(
      ['data'],
    );
  });

  it('follows symlinks to files and folders, as sha256sum does', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'real'));
    await writeFile(path.join(dir, 'real/f'), 'x');
    await symlink('real', path.join(dir, 'alias'));
    await symlink('real/f', path.join(dir, 'link'));
    expect((await walkFiles(dir)).map((f) => f.relative)).toEqual(['alias/f', 'link', 'real/f']);
  });

  it('refuses a broken link or a FIFO with EUNSAFE_PATH', async () => {
    const dir = await tempDir();
    await symlink('nowhere', path.join(dir, 'broken'));
    await expect(walkFiles(dir)).rejects.toMatchObject({ code: 'EUNSAFE_PATH' });
    const other = await tempDir();
    await promisify(execFile)('mkfifo', [path.join(other, 'pipe')]);
    await expect(walkFiles(other)).rejects.toMatchObject({ code: 'EUNSAFE_PATH' });
  });

  it('does not enter a skipped folder nor follow a skipped link, so what is there does not matter', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ignored/deep'), { recursive: true });
    await symlink('nowhere', path.join(dir, 'ignored/deep/broken'));
    await symlink('nowhere', path.join(dir, 'broken'));
    await writeFile(path.join(dir, 'kept'), 'x');
    const asked: [string, boolean][] = [];
    const files = await walkFiles(dir, {
      skip: (relative, directory) => {
        asked.push([relative, directory]);
        return relative === 'ignored' || relative === 'broken';
      },
    });
    expect(files.map((f) => f.relative)).toEqual(['kept']);
    expect(asked.sort()).toEqual([
      ['broken', false],
      ['ignored', true],
      ['kept', false],
    ]);
  });

  it('leaves out a broken link or a FIFO when leaveOut says so, and fails on the others', async () => {
    const dir = await tempDir();
    await symlink('nowhere', path.join(dir, 'broken'));
    await promisify(execFile)('mkfifo', [path.join(dir, 'pipe')]);
    await writeFile(path.join(dir, 'file'), 'x');
    const files = await walkFiles(dir, { leaveOut: (relative) => relative !== 'file' });
    expect(files.map((f) => f.relative)).toEqual(['file']);
    await expect(walkFiles(dir, { leaveOut: (relative) => relative === 'pipe' })).rejects.toMatchObject({
      code: 'EUNSAFE_PATH',
      file: path.join(dir, 'broken'),
    });
  });

  it('refuses a symbolic link loop (a/up -> ..) by name, at the link, without walking it over and over', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'a'));
    await writeFile(path.join(dir, 'a/f.txt'), 'x');
    await symlink('..', path.join(dir, 'a/up'));
    const error = await walkFiles(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EUNSAFE_PATH', file: path.join(dir, 'a/up') });
    expect((error as Error).message).toContain(`symbolic link loop (it leads back to ${dir}`);
    // leaveOut leaves a loop out as it does a broken link.
    const files = await walkFiles(dir, { leaveOut: (relative) => relative === 'a/up' });
    expect(files.map((f) => f.relative)).toEqual(['a/f.txt']);
  });

  it('two links to the same folder are no loop: it is walked under each name', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'real'));
    await writeFile(path.join(dir, 'real/f'), 'x');
    await mkdir(path.join(dir, 'b'));
    await symlink('../real', path.join(dir, 'b/one'));
    await symlink('../real', path.join(dir, 'b/two'));
    expect((await walkFiles(dir)).map((f) => f.relative)).toEqual(['b/one/f', 'b/two/f', 'real/f']);
  });
});
