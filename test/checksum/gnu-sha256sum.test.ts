import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CHECKSUMS_FILE, createChecksums, verifyDirectory } from '../../src/checksum/directory.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);

/** File names that stress the format: spaces, Chinese, a leading space, a backslash, a newline, a star. */
const NAMES = [
  'plain.txt',
  'with space.txt',
  ' leading space',
  '中文/数据 文件.bin',
  'back\\slash',
  'new\nline',
  '*star',
  'empty',
];

async function sampleFolder(): Promise<string> {
  const dir = await tempDir('offline-gnu-');
  for (const [index, name] of NAMES.entries()) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), name === 'empty' ? '' : `content ${index} of ${name}\n`);
  }
  return dir;
}

describe('interoperability with GNU sha256sum (the real tool)', () => {
  it('a list that offline writes passes `sha256sum -c --strict` run in the folder', async () => {
    const dir = await sampleFolder();
    await createChecksums(dir);
    const { stdout } = await run('sha256sum', ['-c', '--strict', CHECKSUMS_FILE], { cwd: dir });
    const oks = stdout.split('\n').filter((line) => line.endsWith(': OK'));
    expect(oks).toHaveLength(NAMES.length);
  });

  it('`sha256sum -c` fails on a list offline wrote once a file changed (the list is really checked)', async () => {
    const dir = await sampleFolder();
    await createChecksums(dir);
    await writeFile(path.join(dir, '中文/数据 文件.bin'), 'changed');
    await expect(run('sha256sum', ['-c', '--quiet', CHECKSUMS_FILE], { cwd: dir })).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('数据 文件.bin: FAILED'),
    });
  });

  it('offline verifies a list that `sha256sum` wrote, with the same hashes offline computes', async () => {
    const dir = await sampleFolder();
    const { stdout } = await run('sha256sum', ['--', ...NAMES], { cwd: dir });
    await writeFile(path.join(dir, CHECKSUMS_FILE), stdout);
    const result = await verifyDirectory(dir);
    expect(result.problems).toEqual([]);
    expect(result.verified.map((e) => e.path).sort()).toEqual([...NAMES].sort());
    const ours = await createChecksums(dir);
    expect(new Map(ours.map((e) => [e.path, e.sha256]))).toEqual(
      new Map(result.verified.map((e) => [e.path, e.sha256])),
    );
  });

  it('offline verifies `sha256sum --binary` and `--tag` lists too', async () => {
    const dir = await sampleFolder();
    const plain = NAMES.filter((n) => !/[\\\n]/.test(n));
    for (const flag of ['--binary', '--tag']) {
      const { stdout } = await run('sha256sum', [flag, '--', ...plain], { cwd: dir });
      await writeFile(path.join(dir, CHECKSUMS_FILE), stdout);
      const result = await verifyDirectory(dir, { allowUnlisted: true });
      expect(result.problems).toEqual([]);
      expect(result.verified).toHaveLength(plain.length);
    }
  });

  it('offline finds the same bad file as sha256sum in a list sha256sum wrote', async () => {
    const dir = await sampleFolder();
    const { stdout } = await run('sha256sum', ['--', ...NAMES], { cwd: dir });
    await writeFile(path.join(dir, CHECKSUMS_FILE), stdout);
    await writeFile(path.join(dir, 'with space.txt'), 'tampered');
    const result = await verifyDirectory(dir);
    expect(result.problems).toMatchObject([{ code: 'EINTEGRITY', file: 'with space.txt' }]);
    expect(await readFile(path.join(dir, CHECKSUMS_FILE), 'utf8')).toBe(stdout);
  });
});
