import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';
import { type ScriptedServer, startScriptedServer, status, trickle } from './support/scripted-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const R50K = '/encodings/r50k_base.tiktoken';
const CL100K = '/encodings/cl100k_base.tiktoken';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('offline tiktoken fetch', () => {
  it('on Ctrl-C mid-download removes its temp files and exits 130', async () => {
    // 400 pieces 50 ms apart: both downloads are still running whenever the signal comes
    server = await startScriptedServer({ [R50K]: trickle(400, 50), [CL100K]: trickle(400, 50) });
    const out = await tempDir();
    const args = ['tiktoken', 'fetch', '--out', out, '--encodings', 'r50k_base,cl100k_base'];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args, '--base-url', server.url],
      {
        cwd: root,
        env: { ...process.env, OFFLINE_SILENT: '1' },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const temps = async () => (await readdir(out)).filter((n) => n.endsWith('.tmp'));
    for (let i = 0; i < 800 && (await temps()).length < 2; i++) await pause(25);
    expect(await temps()).toHaveLength(2);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await readdir(out)).toEqual([]);
  });

  it('hints at its own options when a download fails', async () => {
    server = await startScriptedServer({ [CL100K]: status(404) });
    const out = await tempDir();
    const fetched = await runCli([
      'tiktoken',
      'fetch',
      '--out',
      out,
      '--encodings',
      'cl100k_base',
      '--base-url',
      server.url,
      '--json',
    ]);
    expect(fetched.code).toBe(1);
    const { error } = fetched.json as { error: { code: string; hint: string } };
    expect(error.code).toBe('EDOWNLOAD');
    expect(error.hint).toContain('--base-url');
    expect(error.hint).toContain('--from');
  });
});
