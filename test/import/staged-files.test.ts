import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FileAction } from '../../src/import/file-plan.js';
import { StagedFiles } from '../../src/import/staged-files.js';
import { plannedFile } from '../support/planned-file.js';
import { tempDir } from '../support/temp-dir.js';

const STAMP = '2026-11-23T00-00-00-000Z';

/** Every file under `dir` with its text, by relative path (the staging folder included, if any). */
async function tree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const absolute = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, absolute)] = await readFile(absolute, 'utf8');
  }
  return files;
}

/** A target with files an earlier import placed, one of them changed by the user. */
async function earlierImport(): Promise<string> {
  const target = await tempDir();
  await writeFile(path.join(target, 'docker-compose.yml'), 'services: {v1: {}}\n');
  await writeFile(path.join(target, 'nginx.conf'), 'changed by the user\n');
  await writeFile(path.join(target, '.env'), 'SECRET=mine\n');
  return target;
}

async function stage(target: string): Promise<StagedFiles> {
  const staged = new StagedFiles(target);
  const files: [string, string, FileAction][] = [
    ['docker-compose.yml', 'services: {v2: {}}\n', 'update'],
    ['nginx.conf', 'from the bundle\n', 'replace-changed'],
    ['conf/new.yml', 'new: true\n', 'create'],
  ];
  for (const [file, text, action] of files) {
    await staged.write(plannedFile(target, file, text, action), Readable.from([text]));
  }
  await staged.writeMade('.env', 'SECRET=generated\n', { mode: 0o600, onlyIfAbsent: true });
  await staged.writeMade('import-report.json', '{}\n');
  return staged;
}

describe('StagedFiles.commit: every file or none', () => {
  it('places every file, backs up the changed one, never replaces the .env, and leaves no staging folder', async () => {
    const target = await earlierImport();
    const staged = await stage(target);
    expect(await staged.commit(STAMP)).toEqual([path.join(target, `nginx.conf.bak-${STAMP}`)]);
    await staged.discard();
    expect(await tree(target)).toEqual({
      'docker-compose.yml': 'services: {v2: {}}\n',
      'nginx.conf': 'from the bundle\n',
      [`nginx.conf.bak-${STAMP}`]: 'changed by the user\n',
      'conf/new.yml': 'new: true\n',
      '.env': 'SECRET=mine\n',
      'import-report.json': '{}\n',
    });
  });

  it('a move that fails part-way puts back every file it replaced and removes every file and folder it added', async () => {
    const target = await earlierImport();
    const before = await tree(target);
    const staged = await stage(target);
    // The report cannot go where a folder of that name stands: the last move fails.
    await mkdir(path.join(target, 'import-report.json'));
    await expect(staged.commit(STAMP)).rejects.toMatchObject({
      code: 'EEXIST',
      file: path.join(target, 'import-report.json'),
    });
    await staged.discard();
    expect(await tree(target)).toEqual(before);
    expect((await readdir(target)).sort()).toEqual([
      '.env',
      'docker-compose.yml',
      'import-report.json',
      'nginx.conf',
    ]);
    expect((await stat(path.join(target, 'import-report.json'))).isDirectory()).toBe(true);
  });
});
