import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CHECKSUMS_FILE } from '../../src/checksum/directory.js';
import { hashFile } from '../../src/checksum/hash-file.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);

async function sampleFolder(): Promise<string> {
  const dir = await tempDir('offline-cli-');
  await mkdir(path.join(dir, '模型'));
  await writeFile(path.join(dir, 'a.txt'), 'alpha\n');
  await writeFile(path.join(dir, 'with space.txt'), 'beta\n');
  await writeFile(path.join(dir, '模型/权重.bin'), Buffer.alloc(70_000, 7));
  await writeFile(path.join(dir, 'empty'), '');
  return dir;
}

const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error: '));

describe('offline checksum (CLI)', () => {
  it('create writes a list that real `sha256sum -c` accepts, and says what it did (exit 0)', async () => {
    const dir = await sampleFolder();
    const result = await runCli(['checksum', 'create', dir]);
    expect(result).toMatchObject({ code: 0, stdout: `wrote ${dir}/${CHECKSUMS_FILE}: 4 files\n` });
    const { stdout } = await run('sha256sum', ['-c', '--strict', CHECKSUMS_FILE], { cwd: dir });
    expect(stdout.split('\n').filter((l) => l.endsWith(': OK'))).toHaveLength(4);
  });

  it('create --json prints exactly one JSON object on stdout', async () => {
    const dir = await sampleFolder();
    const result = await runCli(['checksum', 'create', dir, '--json']);
    expect(result.code).toBe(0);
    expect(result.json).toEqual({
      ok: true,
      command: 'checksum create',
      dir,
      list: CHECKSUMS_FILE,
      files: 4,
      bytes: 70_011,
    });
  });

  it('verify accepts a list written by real `sha256sum` (exit 0)', async () => {
    const dir = await sampleFolder();
    const { stdout } = await run('sha256sum', ['a.txt', 'with space.txt', '模型/权重.bin', 'empty'], {
      cwd: dir,
    });
    await writeFile(path.join(dir, CHECKSUMS_FILE), stdout);
    const result = await runCli(['checksum', 'verify', dir, '--json']);
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ ok: true, command: 'checksum verify', verified: 4 });
    expect(result.stderr).toBe('');
  });

  it('verify warns about CRLF line ends on stderr and still passes', async () => {
    const dir = await sampleFolder();
    await runCli(['checksum', 'create', dir]);
    const list = path.join(dir, CHECKSUMS_FILE);
    await writeFile(list, (await readFile(list, 'utf8')).replace(/\n/g, '\r\n'));
    const result = await runCli(['checksum', 'verify', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${dir}: 4 files verified, all good\n`);
    expect(result.stderr).toMatch(/^warning: .*CRLF/);
  });

  it('verify exits 3 on a changed file, with one clear line naming it, expected and found', async () => {
    const dir = await sampleFolder();
    await runCli(['checksum', 'create', dir]);
    const before = await hashFile(path.join(dir, 'a.txt'));
    await writeFile(path.join(dir, 'a.txt'), 'tampered\n');
    const after = await hashFile(path.join(dir, 'a.txt'));
    const result = await runCli(['checksum', 'verify', dir]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    const problem = errorLines(result.stderr).filter((line) => line.includes('a.txt'));
    expect(problem).toEqual([
      `error: EINTEGRITY: a.txt: sha256 differs (expected ${before.sha256}, found ${after.sha256})`,
    ]);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('verify --json reports every problem at once in one JSON object (exit 3)', async () => {
    const dir = await sampleFolder();
    await runCli(['checksum', 'create', dir]);
    await writeFile(path.join(dir, 'a.txt'), 'tampered\n');
    await writeFile(path.join(dir, 'new.txt'), 'unlisted\n');
    await writeFile(path.join(dir, 'with space.txt'), '');
    const list = path.join(dir, CHECKSUMS_FILE);
    await writeFile(list, `${await readFile(list, 'utf8')}not a checksum line\n`);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(dir, 'empty'));
    const result = await runCli(['checksum', 'verify', dir, '--json']);
    expect(result.code).toBe(3);
    const error = (result.json as { ok: boolean; error: { problems: { code: string; file: string }[] } })
      .error;
    expect(result.json).toMatchObject({ ok: false, command: 'checksum verify' });
    expect(error.problems.map((p) => p.code)).toEqual([
      'EMANIFEST',
      'EINTEGRITY',
      'EMISSING',
      'EUNLISTED',
      'EINTEGRITY',
    ]);
    expect(errorLines(result.stderr)).toHaveLength(1 + 5);
  });

  it("verify reports the most serious problem's code, whichever path sorts first", async () => {
    const dir = await tempDir('offline-cli-');
    await writeFile(path.join(dir, 'b.txt'), '1\n');
    await writeFile(path.join(dir, 'c.txt'), '2\n');
    await runCli(['checksum', 'create', dir]);
    await writeFile(path.join(dir, 'c.txt'), 'changed\n');
    const codeOf = async () => {
      const result = await runCli(['checksum', 'verify', dir, '--json']);
      expect(result.code).toBe(3);
      return (result.json as { error: { code: string } }).error.code;
    };
    await writeFile(path.join(dir, 'a-extra.txt'), 'new\n');
    expect(await codeOf()).toBe('EINTEGRITY');
    const { rm } = await import('node:fs/promises');
    await rm(path.join(dir, 'a-extra.txt'));
    await writeFile(path.join(dir, 'z-extra.txt'), 'new\n');
    expect(await codeOf()).toBe('EINTEGRITY');
    const list = path.join(dir, CHECKSUMS_FILE);
    await writeFile(list, `${await readFile(list, 'utf8')}zz  ../etc/passwd\n`);
    expect(await codeOf()).toBe('EINTEGRITY');
    await writeFile(path.join(dir, 'c.txt'), '2\n');
    await rm(path.join(dir, 'b.txt'));
    expect(await codeOf()).toBe('EMISSING');
  });

  it('verify --allow-unlisted accepts a file nobody listed', async () => {
    const dir = await sampleFolder();
    await runCli(['checksum', 'create', dir]);
    await writeFile(path.join(dir, 'later.txt'), 'x');
    expect((await runCli(['checksum', 'verify', dir])).code).toBe(3);
    expect((await runCli(['checksum', 'verify', dir, '--allow-unlisted'])).code).toBe(0);
  });

  it('verify of a folder without a list exits 3 and says how to make one', async () => {
    const dir = await sampleFolder();
    const result = await runCli(['checksum', 'verify', dir]);
    expect(result.code).toBe(3);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/^error: EMISSING: .*offline checksum create/),
    ]);
  });

  it('prints the stack only with --debug', async () => {
    const dir = await sampleFolder();
    const plain = await runCli(['checksum', 'verify', dir]);
    expect(plain.stderr).not.toMatch(/^\s+at /m);
    const debug = await runCli(['--debug', 'checksum', 'verify', dir]);
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });
});
