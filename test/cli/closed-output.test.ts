import { spawn } from 'node:child_process';
import { access, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHECKSUMS_FILE } from '../../src/checksum/directory.js';
import { tempDir } from '../support/temp-dir.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const entry = path.join(root, 'src/cli/main.ts');

/** Runs `offline checksum create DIR` with stdout as given: 'closed' is a pipe whose reading end is gone. */
async function checksumCreate(
  stdout: 'closed' | number,
): Promise<{ code: number | null; stderr: string; dir: string }> {
  const dir = await tempDir('offline-closed-');
  await writeFile(path.join(dir, 'model.bin'), 'weights\n');
  const child = spawn(tsx, [entry, 'checksum', 'create', dir], {
    cwd: root,
    env: { ...process.env, OFFLINE_SILENT: '1' },
    stdio: ['ignore', stdout === 'closed' ? 'pipe' : stdout, 'pipe'],
  });
  // As `offline ... | head -0`: the reader is gone before the first write, which then fails with EPIPE.
  if (stdout === 'closed') child.stdout?.destroy();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr, dir };
}

describe('output nobody reads', () => {
  it('a closed stdout pipe (EPIPE) ends no command: the work is done, exit 0, no stack trace', async () => {
    const { code, stderr, dir } = await checksumCreate('closed');
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js/);
    expect(code).toBe(0);
    await access(path.join(dir, CHECKSUMS_FILE));
  });

  it('a result that could not be written elsewhere (a full disk) is exit 1 with one line saying so', async () => {
    const full = await open('/dev/full', 'w');
    try {
      const { code, stderr, dir } = await checksumCreate(full.fd);
      expect(stderr.split('\n').filter((line) => line.startsWith('error: '))).toEqual([
        'error: the result could not be written to stdout: ENOSPC',
      ]);
      expect(stderr).not.toMatch(/Unhandled|at .*\.js/);
      expect(code).toBe(1);
      await access(path.join(dir, CHECKSUMS_FILE));
    } finally {
      await full.close();
    }
  });
});
