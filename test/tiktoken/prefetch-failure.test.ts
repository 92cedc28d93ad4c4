import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { prefetchTiktoken } from '../../src/tiktoken/prefetch.js';
import { tempDir } from '../support/temp-dir.js';
import { type ScriptedServer, startScriptedServer, status, trickle } from './support/scripted-server.js';

const R50K = '/encodings/r50k_base.tiktoken';
const CL100K = '/encodings/cl100k_base.tiktoken';
const ENCODINGS = ['r50k_base', 'cl100k_base', 'o200k_base'];

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('prefetchTiktoken after a failure', () => {
  it('starts no queued download once one failed, and leaves no file (concurrency 1)', async () => {
    server = await startScriptedServer({ [R50K]: status(404) });
    const out = await tempDir();
    const error = await prefetchTiktoken({
      outDir: out,
      encodings: ENCODINGS,
      baseUrl: server.url,
      concurrency: 1,
      retries: 0,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EDOWNLOAD' });
    expect(server.requests).toEqual([R50K]);
    expect(await readdir(out)).toEqual([]);
  });

  it('stops the running downloads and waits for them: no temp file left when it throws (concurrency 2)', async () => {
    let firstPiece: () => void = () => undefined;
    const r50kStarted = new Promise<void>((resolve) => {
      firstPiece = resolve;
    });
    server = await startScriptedServer({
      // r50k is mid-body, its temp file open, when cl100k's 404 arrives; o200k waits in the queue
      [R50K]: trickle(400, 50, () => firstPiece()),
      [CL100K]: status(404, r50kStarted),
    });
    const out = await tempDir();
    const error = await prefetchTiktoken({
      outDir: out,
      encodings: ENCODINGS,
      baseUrl: server.url,
      concurrency: 2,
      retries: 0,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EDOWNLOAD' });
    expect((error as Error).message).toContain(`cl100k_base: ${server.url}${CL100K}: HTTP 404`);
    expect(await readdir(out)).toEqual([]);
    expect([...server.requests].sort()).toEqual([CL100K, R50K]);
  });

  it("hints at what works where export runs it: the environment variables, not fetch's options", async () => {
    server = await startScriptedServer({ [R50K]: status(404) });
    const error = await prefetchTiktoken({
      outDir: await tempDir(),
      encodings: ['r50k_base'],
      baseUrl: server.url,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EDOWNLOAD' });
    const { hint } = error as { hint: string };
    expect(hint).toContain('OFFLINE_TIKTOKEN_BASE_URL');
    expect(hint).toContain('TIKTOKEN_CACHE_DIR');
    expect(hint).not.toMatch(/--base-url|--from/);
  });
});
