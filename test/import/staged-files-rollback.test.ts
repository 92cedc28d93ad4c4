import * as fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { FileAction } from '../../src/import/file-plan.js';
import { StagedFiles } from '../../src/import/staged-files.js';
import { plannedFile } from '../support/planned-file.js';
import { tempDir } from '../support/temp-dir.js';

// A rename that fails on demand: the one way to make a rollback step fail (as root, no permission does).
const failRenameTo = vi.hoisted(() => ({ dest: undefined as string | undefined }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      if (to === failRenameTo.dest && from.includes(`${path.sep}previous${path.sep}`)) {
        throw Object.assign(new Error(`EIO: i/o error, rename '${from}' -> '${to}'`), { code: 'EIO' });
      }
      return real.rename(from, to);
    },
  };
});

describe('StagedFiles: a rollback step that fails', () => {
  it('still undoes every other step, names what it could not put back, and keeps that earlier content', async () => {
    const target = await tempDir();
    await fs.writeFile(path.join(target, 'docker-compose.yml'), 'services: {v1: {}}\n');
    await fs.writeFile(path.join(target, 'nginx.conf'), 'v1\n');
    const staged = new StagedFiles(target);
    const files: [string, string, FileAction][] = [
      ['docker-compose.yml', 'services: {v2: {}}\n', 'update'],
      ['nginx.conf', 'v2\n', 'update'],
      ['conf/new.yml', 'new: true\n', 'create'],
    ];
    for (const [file, text, action] of files) {
      await staged.write(plannedFile(target, file, text, action), Readable.from([text]));
    }
    await staged.writeMade('import-report.json', '{}\n');
    // The last move fails (a folder stands where the report goes); putting the compose file back fails too.
    await fs.mkdir(path.join(target, 'import-report.json'));
    failRenameTo.dest = path.join(target, 'docker-compose.yml');

    const error = await staged.commit('stamp').then(
      () => undefined,
      (e: unknown) => e as Error & { code: string; file: string },
    );
    expect(error).toMatchObject({ code: 'EEXIST', file: path.join(target, 'import-report.json') });
    const kept = /its earlier content is kept as (\S+) \(EIO/.exec(error?.message ?? '')?.[1];
    expect(error?.message).toContain(`${path.join(target, 'docker-compose.yml')}: not put back`);
    expect(kept).toBeDefined();

    await staged.discard();
    // Every other step was undone: nginx.conf is back, the new file and its folder are gone.
    expect(await fs.readFile(path.join(target, 'nginx.conf'), 'utf8')).toBe('v1\n');
    await expect(fs.stat(path.join(target, 'conf'))).rejects.toMatchObject({ code: 'ENOENT' });
    // The compose file could not be put back: the new one stays, the user's earlier one is where the error said.
    expect(await fs.readFile(path.join(target, 'docker-compose.yml'), 'utf8')).toBe('services: {v2: {}}\n');
    expect(await fs.readFile(kept as string, 'utf8')).toBe('services: {v1: {}}\n');
    expect(await fs.readdir(path.dirname(path.dirname(kept as string)))).toEqual(['previous']);
  });
});
