import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cacheFileName, canonicalUrl } from '../../src/tiktoken/cache-name.js';
import { prefetchTiktoken } from '../../src/tiktoken/prefetch.js';
import { retryAfterMs } from '../../src/tiktoken/retry.js';
import { tempDir } from '../support/temp-dir.js';
import { type FileServer, startFileServer } from '../support/tiktoken-server.js';

const CL100K = '/encodings/cl100k_base.tiktoken';

let server: FileServer;
beforeEach(async () => {
  server = await startFileServer();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await server.close();
});

async function fetchCl100k(out: string, extra: Partial<Parameters<typeof prefetchTiktoken>[0]> = {}) {
  const events: string[] = [];
  const result = await prefetchTiktoken({
    outDir: out,
    encodings: ['cl100k_base'],
    baseUrl: server.url,
    requestTimeoutMs: 2000,
    retries: 2,
    onEvent: (e) => events.push(e),
    ...extra,
  }).catch((error: unknown) => error);
  return { result, events, requests: server.requests.filter((r) => r === CL100K).length };
}

describe('download retries', () => {
  it.each([408, 429, 503])('retries HTTP %i, after the pause its Retry-After asks for', async (code) => {
    server.fault(CL100K, { kind: 'status', code, headers: { 'retry-after': '0' } });
    const { result, events, requests } = await fetchCl100k(await tempDir());
    expect(result).toMatchObject([{ source: 'download' }]);
    expect(requests).toBe(2);
    expect(events).toContain(`cl100k_base.tiktoken: HTTP ${code}, retry 1 in 0 ms`);
  });

  it('fails at once, saying why, when Retry-After goes past the overall deadline', async () => {
    server.fault(CL100K, { kind: 'status', code: 503, headers: { 'retry-after': '3600' } });
    const { result, requests } = await fetchCl100k(await tempDir());
    expect(result).toMatchObject({ code: 'ETIMEOUT' });
    expect((result as Error).message).toContain('retry in 1 h (Retry-After), past the overall deadline');
    expect((result as { hint: string }).hint).toContain('OFFLINE_TIKTOKEN_DEADLINE');
    expect(requests).toBe(1);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('retries a body that ended short with no Content-Length', async () => {
    server.fault(CL100K, { kind: 'short' });
    const out = await tempDir();
    const { result, requests } = await fetchCl100k(out);
    expect(result).toMatchObject([{ source: 'download' }]);
    expect(requests).toBe(2);
    expect((await readdir(out)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('names an HTML page sent instead of the file, once, with what to do', async () => {
    server.fault(CL100K, { kind: 'html' }, { kind: 'html' }, { kind: 'html' });
    const out = await tempDir();
    const { result, requests } = await fetchCl100k(out);
    expect(result).toMatchObject({ code: 'EBADSIZE', expected: 1681126, found: 24 });
    expect((result as Error).message).toContain(`cl100k_base: ${server.url}${CL100K}: size differs`);
    expect((result as Error).message).toContain('sent a text/html page, not the file');
    expect((result as { hint: string }).hint).toContain('OFFLINE_TIKTOKEN_BASE_URL');
    expect(requests).toBe(1);
    expect(await readdir(out)).toEqual([]);
  });

  it('reports a local write error at once, naming the path, never as a network failure', async () => {
    const out = await tempDir();
    // the cache name taken by a folder: the verified download cannot be renamed into place
    const dest = path.join(out, cacheFileName(canonicalUrl(CL100K)));
    await mkdir(path.join(dest, 'in-the-way'), { recursive: true });
    const { result, requests } = await fetchCl100k(out);
    expect(result).toMatchObject({ code: 'EINTERNAL' });
    expect((result as Error).message).toContain(dest);
    expect((result as Error).message).not.toContain('attempts');
    expect((result as { hint: string }).hint).not.toContain('network');
    expect(requests).toBe(1);
  });
});

describe('the overall deadline', () => {
  it('is read from OFFLINE_TIKTOKEN_DEADLINE, and its ETIMEOUT says how to raise it', async () => {
    vi.stubEnv('OFFLINE_TIKTOKEN_DEADLINE', '300ms');
    server.fault(CL100K, { kind: 'hang' });
    const { result } = await fetchCl100k(await tempDir(), { requestTimeoutMs: 60_000 });
    expect(result).toMatchObject({ code: 'ETIMEOUT' });
    expect((result as Error).message).toContain('the overall deadline of 300 ms');
    expect((result as { hint: string }).hint).toContain('OFFLINE_TIKTOKEN_DEADLINE');
  });

  it('refuses an OFFLINE_TIKTOKEN_DEADLINE that is not a duration, before any request', async () => {
    vi.stubEnv('OFFLINE_TIKTOKEN_DEADLINE', 'ten minutes');
    const { result } = await fetchCl100k(await tempDir());
    expect(result).toMatchObject({ code: 'EUSAGE', found: 'ten minutes' });
    expect(server.requests).toEqual([]);
  });
});
