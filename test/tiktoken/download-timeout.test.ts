import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { OfflineError } from '../../src/errors.js';
import { prefetchTiktoken } from '../../src/tiktoken/prefetch.js';
import { tempDir } from '../support/temp-dir.js';
import {
  noAnswer,
  type ScriptedServer,
  stallAfter,
  startScriptedServer,
  trickle,
} from './support/scripted-server.js';

const R50K = '/encodings/r50k_base.tiktoken';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function fetchR50k(url: string, options: Partial<Parameters<typeof prefetchTiktoken>[0]>) {
  const out = await tempDir();
  const result = await prefetchTiktoken({
    outDir: out,
    encodings: ['r50k_base'],
    baseUrl: url,
    ...options,
  }).catch((error: unknown) => error);
  return { out, result };
}

describe('download timeouts', () => {
  it('lets a slow but steady body take longer than the per-attempt limit: the limit is on idleness', async () => {
    // 40 pieces 100 ms apart: about 4 s in all, over twice the limit, never idle for more than a fifteenth of it
    // (the server runs in this process: a pause of this test's process must not look like an idle server)
    server = await startScriptedServer({ [R50K]: trickle(40, 100) });
    const { out, result } = await fetchR50k(server.url, { requestTimeoutMs: 1500, retries: 0 });
    expect(result).toMatchObject([{ encoding: 'r50k_base', source: 'download' }]);
    expect(server.requests).toEqual([R50K]);
    expect((await readdir(out)).sort()).toEqual(['0ea1e91bbb3a60f729a8dc8f777fd2fc07cd8df4', 'index.json']);
  });

  it.each([
    ['after half the body', stallAfter(400_000)],
    ['before the headers', noAnswer],
  ])(
    'fails an attempt that stalls %s with ETIMEOUT, after its retries, leaving no file',
    async (_name, route) => {
      server = await startScriptedServer({ [R50K]: route });
      const { out, result } = await fetchR50k(server.url, { requestTimeoutMs: 300, retries: 1 });
      expect(result).toBeInstanceOf(OfflineError);
      expect(result).toMatchObject({ code: 'ETIMEOUT' });
      expect((result as Error).message).toContain('nothing received for 300 ms');
      expect((result as Error).message).toContain('after 2 attempts');
      expect(server.requests).toEqual([R50K, R50K]);
      expect(await readdir(out)).toEqual([]);
    },
  );
});

describe('stopping a download', () => {
  it('names the overall deadline and its length when it passes', async () => {
    server = await startScriptedServer({ [R50K]: stallAfter(1000) });
    const { out, result } = await fetchR50k(server.url, { requestTimeoutMs: 60_000, deadlineMs: 400 });
    expect(result).toMatchObject({ code: 'ETIMEOUT' });
    expect((result as Error).message).toBe(
      `r50k_base: ${server.url}${R50K}: stopped: the overall deadline of 400 ms for the tiktoken downloads passed`,
    );
    expect(await readdir(out)).toEqual([]);
  });

  it.each([
    ['a plain reason, thrown as it is', new Error('interrupted'), { message: 'interrupted' }],
    [
      'an OfflineError reason, with the file it stopped',
      new OfflineError('EINTERNAL', 'interrupted (SIGINT)'),
      { code: 'EINTERNAL' },
    ],
  ])('reports an abort by the caller with %s, never as a timeout', async (_name, reason, expected) => {
    const controller = new AbortController();
    server = await startScriptedServer({ [R50K]: trickle(40, 50, () => controller.abort(reason)) });
    const { out, result } = await fetchR50k(server.url, {
      requestTimeoutMs: 60_000,
      signal: controller.signal,
    });
    expect(result).toMatchObject(expected);
    expect(result).not.toMatchObject({ code: 'ETIMEOUT' });
    expect(server.requests).toEqual([R50K]);
    expect(await readdir(out)).toEqual([]);
  });
});
