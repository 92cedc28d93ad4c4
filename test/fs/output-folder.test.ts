import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OfflineError } from '../../src/errors.js';
import { checkOutputFile, makeOutputFolder } from '../../src/fs/output-folder.js';
import { tempDir } from '../support/temp-dir.js';

async function refusal(work: Promise<unknown>): Promise<OfflineError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OfflineError);
  return error as OfflineError;
}

describe('makeOutputFolder: the folder a command writes into', () => {
  it('makes the missing levels and returns the first it made; nothing for a folder that is there', async () => {
    const root = await tempDir();
    expect(await makeOutputFolder(root, '--out')).toBeUndefined();
    const deep = path.join(root, 'a', 'b', 'c');
    expect(await makeOutputFolder(deep, '--out')).toBe(path.join(root, 'a'));
    expect((await stat(deep)).isDirectory()).toBe(true);
    // Relative paths count from the working folder.
    const relative = path.relative(process.cwd(), path.join(root, 'd'));
    expect(await makeOutputFolder(relative, '--out')).toBe(path.join(root, 'd'));
  });

  it('refuses a file in its place or on its way (EUSAGE, naming the file), making nothing', async () => {
    const root = await tempDir();
    const file = path.join(root, 'notes.txt');
    await writeFile(file, 'mine\n');
    const itself = await refusal(makeOutputFolder(file, '--target'));
    expect(itself).toMatchObject({ code: 'EUSAGE', file, expected: 'a folder', found: 'a file' });
    expect(itself.describe()).toBe(
      `EUSAGE: ${file}: not a folder (expected a folder, found a file) - give --target a folder (made when missing)`,
    );
    const below = await refusal(makeOutputFolder(path.join(file, 'sub', 'x'), '--target'));
    expect(below).toMatchObject({ code: 'EUSAGE', file });
    expect(below.message).toBe(`${path.join(file, 'sub', 'x')}: ${file} is a file, not a folder`);
    expect(await readdir(root)).toEqual(['notes.txt']);
  });

  it('says it cannot make a folder where the file system refuses (/proc), instead of looping as mkdir -p does', async () => {
    const error = await refusal(makeOutputFolder('/proc/sys/offline-test/x', '--target'));
    expect(error).toMatchObject({ code: 'EUSAGE', file: '/proc/sys/offline-test' });
    // ENOENT as root on a host; a container's read-only /proc/sys says EROFS.
    expect(error.message).toMatch(
      /^\/proc\/sys\/offline-test\/x: cannot make \/proc\/sys\/offline-test \((ENOENT|EROFS|EACCES)\)$/,
    );
    expect(error.hint).toBe('give --target a folder this user can write');
  });
});

describe('checkOutputFile: a file a command writes at its end', () => {
  it('passes a new or existing file in an existing folder; refuses a missing folder or a folder in its place', async () => {
    const root = await tempDir();
    await checkOutputFile(path.join(root, 'override.yml'), '--compose-override');
    await writeFile(path.join(root, 'override.yml'), 'x');
    await checkOutputFile(path.join(root, 'override.yml'), '--compose-override');
    const missing = await refusal(checkOutputFile(path.join(root, 'nope', 'o.yml'), '--compose-override'));
    expect(missing).toMatchObject({ code: 'EUSAGE', file: path.join(root, 'nope') });
    await mkdir(path.join(root, 'dir.yml'));
    const folder = await refusal(checkOutputFile(path.join(root, 'dir.yml'), '--compose-override'));
    expect(folder.message).toBe(`--compose-override ${path.join(root, 'dir.yml')}: is a folder, not a file`);
  });
});
