import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cacheFileName } from '../../src/tiktoken/cache-name.js';
import { prefetchTiktoken } from '../../src/tiktoken/prefetch.js';
import { ENCODING_FILES, resolveEncoding } from '../../src/tiktoken/registry.js';
import { verifyTiktokenCache } from '../../src/tiktoken/verify-cache.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';
import { type FileServer, REAL_FILES, startFileServer } from '../support/tiktoken-server.js';

let server: FileServer;
beforeEach(async () => {
  server = await startFileServer();
});
afterEach(async () => {
  await server.close();
});

const CL100K = '/encodings/cl100k_base.tiktoken';
const fast = { requestTimeoutMs: 2000, retries: 2 };

/** Reads a cache the way Python tiktoken's read_file_cached does: sha1(url) name under the dir, sha256 check. */
async function readLikeTiktoken(dir: string, url: string, sha256: string): Promise<Buffer> {
  const data = await readFile(path.join(dir, createHash('sha1').update(url).digest('hex')));
  expect(createHash('sha256').update(data).digest('hex')).toBe(sha256);
  return data;
}

async function noTempFiles(dir: string): Promise<void> {
  expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
}

describe('tiktoken registry', () => {
  it('resolves aliases and model names', () => {
    expect(resolveEncoding('p50k_edit')).toBe('p50k_base');
    expect(resolveEncoding('o200k_harmony')).toBe('o200k_base');
    expect(resolveEncoding('gpt-4o')).toBe('o200k_base');
    expect(resolveEncoding('gpt-4o-mini')).toBe('o200k_base');
    expect(resolveEncoding('gpt-4-turbo')).toBe('cl100k_base');
    expect(() => resolveEncoding('nope')).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
  });
});

describe('prefetchTiktoken', () => {
  it('writes every file under its sha1-of-URL name, found the way tiktoken looks; a second run makes no request', async () => {
    const out = await tempDir();
    const encodings = ['r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base', 'gpt2'];
    const files = await prefetchTiktoken({ outDir: out, encodings, baseUrl: server.url, ...fast });
    expect(files.map((f) => f.source)).toEqual(Array(6).fill('download'));
    for (const pinned of ENCODING_FILES) {
      const url = `https://openaipublic.blob.core.windows.net${pinned.urlPath}`;
      await readLikeTiktoken(out, url, pinned.sha256);
    }
    expect(cacheFileName('https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken')).toBe(
      '9b5ad71b2ce5302211f9c61530b329a4922fc6a4',
    );
    const before = server.requests.length;
    const again = await prefetchTiktoken({ outDir: out, encodings, baseUrl: server.url, ...fast });
    expect(again.map((f) => f.source)).toEqual(Array(6).fill('cache'));
    expect(server.requests.length).toBe(before);
    expect((await verifyTiktokenCache(out)).problems).toEqual([]);
  });

  it('runs downloads in parallel, never more than `concurrency` at once', async () => {
    // The server answers nothing until the test says so: each time `concurrency` requests wait, one is answered,
    // and the next download may start only then.
    server.setDefault({ kind: 'held' });
    const out = await tempDir();
    const encodings = ['r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base'];
    const concurrency = 2;
    const done = prefetchTiktoken({ outDir: out, encodings, baseUrl: server.url, concurrency, retries: 0 });
    // Awaited below; handled now too, so that a failed expect before that is the one failure reported.
    done.catch(() => undefined);
    for (let answered = 0; answered < encodings.length; answered++) {
      const waiting = Math.min(concurrency, encodings.length - answered);
      await vi.waitFor(() => expect(server.held()).toBeGreaterThanOrEqual(waiting), { timeout: 30_000 });
      expect(server.held()).toBe(waiting);
      expect(server.release()).toBe(true);
    }
    expect((await done).map((f) => f.source)).toEqual(Array(encodings.length).fill('download'));
    expect(server.inFlight()).toEqual({ now: 0, peak: concurrency });
    expect(server.requests).toHaveLength(encodings.length);
  });

  it('retries a 500 and a dropped connection, then succeeds', async () => {
    server.fault(CL100K, { kind: 'status', code: 500 }, { kind: 'drop' });
    const out = await tempDir();
    const events: string[] = [];
    const [file] = await prefetchTiktoken({
      outDir: out,
      encodings: ['cl100k_base'],
      baseUrl: server.url,
      ...fast,
      onEvent: (e) => events.push(e),
    });
    expect(file?.source).toBe('download');
    expect(server.requests.filter((r) => r === CL100K)).toHaveLength(3);
    expect(events.join('\n')).toContain('retry 2');
    await noTempFiles(out);
  });

  it('follows a redirect', async () => {
    server.fault(CL100K, { kind: 'redirect', to: `${server.url}${CL100K}` });
    const out = await tempDir();
    await prefetchTiktoken({ outDir: out, encodings: ['cl100k_base'], baseUrl: server.url, ...fast });
    expect(server.requests.filter((r) => r === CL100K)).toHaveLength(2);
  });

  it.each([
    ['a wrong byte', { kind: 'wrong-byte' as const }, 'EINTEGRITY', 1],
    ['a 404', { kind: 'status' as const, code: 404 }, 'EDOWNLOAD', 1],
  ])('fails clearly on %s, without retrying, leaving no file', async (_name, fault, code, requests) => {
    server.fault(CL100K, fault, fault, fault);
    const out = await tempDir();
    const error = await prefetchTiktoken({
      outDir: out,
      encodings: ['cl100k_base'],
      baseUrl: server.url,
      ...fast,
    }).catch((e) => e);
    expect(error).toMatchObject({ code });
    expect(error.message).toContain('cl100k_base');
    expect(error.message).toContain(`${server.url}${CL100K}`);
    expect(server.requests.filter((r) => r === CL100K)).toHaveLength(requests);
    expect(await readdir(out)).toEqual([]);
  });

  it('times out a response that never ends, after its retries', async () => {
    server.fault(CL100K, { kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' });
    const out = await tempDir();
    const error = await prefetchTiktoken({
      outDir: out,
      encodings: ['cl100k_base'],
      baseUrl: server.url,
      requestTimeoutMs: 300,
      retries: 2,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'ETIMEOUT' });
    expect(error.message).toContain('cl100k_base');
    expect(await readdir(out)).toEqual([]);
  });

  it('takes --from files by their plain names, verified', async () => {
    const from = await tempDir();
    await copyFile(path.resolve(REAL_FILES[CL100K] as string), path.join(from, 'cl100k_base.tiktoken'));
    const out = await tempDir();
    const [file] = await prefetchTiktoken({
      outDir: out,
      encodings: ['cl100k_base'],
      fromDir: from,
      baseUrl: server.url,
      ...fast,
    });
    expect(file?.source).toBe('local');
    expect(server.requests).toEqual([]);
    await writeFile(path.join(from, 'o200k_base.tiktoken'), 'not the file');
    const warnings: string[] = [];
    const [o200k] = await prefetchTiktoken({
      outDir: out,
      encodings: ['o200k_base'],
      fromDir: from,
      baseUrl: server.url,
      ...fast,
      onWarn: (w) => warnings.push(w),
    });
    expect(o200k?.source).toBe('download');
    expect(warnings).toEqual([
      `${path.join(from, 'o200k_base.tiktoken')}: not the pinned o200k_base.tiktoken (EBADSIZE), skipped`,
    ]);
  });
});

describe('offline tiktoken CLI', () => {
  it('fetches with --json and verify exits 3 on a corrupted file', async () => {
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
    expect(fetched.code, fetched.stderr).toBe(0);
    expect((fetched.json as { files: unknown[] }).files).toHaveLength(1);
    expect((await runCli(['tiktoken', 'verify', out])).code).toBe(0);
    const name = path.join(out, '9b5ad71b2ce5302211f9c61530b329a4922fc6a4');
    const data = await readFile(name);
    data[10] = (data[10] as number) ^ 1;
    await writeFile(name, data);
    const verified = await runCli(['tiktoken', 'verify', out, '--json']);
    expect(verified.code).toBe(3);
    expect((verified.json as { error: { code: string } }).error.code).toBe('EINTEGRITY');
  });
});
