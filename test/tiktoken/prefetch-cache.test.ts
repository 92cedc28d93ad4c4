import { copyFile, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheFileName, canonicalUrl } from '../../src/tiktoken/cache-name.js';
import { prefetchTiktoken } from '../../src/tiktoken/prefetch.js';
import { ENCODING_FILES } from '../../src/tiktoken/registry.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';
import { type FileServer, REAL_FILES, startFileServer } from '../support/tiktoken-server.js';

const fileOf = (encoding: string, plainName?: string) => {
  const file = ENCODING_FILES.find(
    (f) => f.encoding === encoding && (!plainName || f.plainName === plainName),
  );
  if (!file) throw new Error(`${encoding} is not in the registry`);
  return { ...file, cacheName: cacheFileName(canonicalUrl(file.urlPath)) };
};
const CL100K = fileOf('cl100k_base');
const R50K = fileOf('r50k_base');
const ENCODER = fileOf('gpt2', 'encoder.json');
const VOCAB = fileOf('gpt2', 'vocab.bpe');

let server: FileServer;
beforeEach(async () => {
  server = await startFileServer();
});
afterEach(async () => {
  await server.close();
});

async function copyReal(file: { urlPath: string }, to: string): Promise<void> {
  await copyFile(path.resolve(REAL_FILES[file.urlPath] as string), to);
}

async function listed(dir: string): Promise<string[]> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as {
    files: { encoding: string }[];
  };
  return index.files.map((f) => f.encoding);
}

describe('files already on disk (--from, TIKTOKEN_CACHE_DIR)', () => {
  it('takes the sha1 name tiktoken wrote before a plain name, and skips a wrong file with a warning', async () => {
    // a cache tiktoken filled (sha1 names), with an unrelated encoder.json and a wrong vocab.bpe beside it
    const from = await tempDir();
    await copyReal(ENCODER, path.join(from, ENCODER.cacheName));
    await writeFile(path.join(from, 'encoder.json'), '{"some": "other encoder"}');
    await writeFile(path.join(from, 'vocab.bpe'), 'not the vocab');
    const out = await tempDir();
    const warnings: string[] = [];
    const files = await prefetchTiktoken({
      outDir: out,
      encodings: ['gpt2'],
      fromDir: from,
      baseUrl: server.url,
      onWarn: (w) => warnings.push(w),
    });
    expect(files.map((f) => [f.name, f.source])).toEqual([
      ['vocab.bpe', 'download'],
      ['encoder.json', 'local'],
    ]);
    expect(server.requests).toEqual([VOCAB.urlPath]);
    expect(warnings).toEqual([
      `${path.join(from, 'vocab.bpe')}: not the pinned vocab.bpe (EBADSIZE), skipped`,
    ]);
  });
});

describe('index.json', () => {
  it('keeps listing the files of earlier runs that are still in place', async () => {
    const out = await tempDir();
    await prefetchTiktoken({ outDir: out, encodings: ['cl100k_base'], baseUrl: server.url });
    await prefetchTiktoken({ outDir: out, encodings: ['r50k_base'], baseUrl: server.url });
    expect(await listed(out)).toEqual(['r50k_base', 'cl100k_base']);
    await writeFile(path.join(out, R50K.cacheName), 'broken since');
    await prefetchTiktoken({ outDir: out, encodings: ['cl100k_base'], baseUrl: server.url });
    expect(await listed(out)).toEqual(['cl100k_base']);
  });

  it('refuses an empty list of encodings (EUSAGE, exit 2) instead of fetching nothing', async () => {
    const out = await tempDir();
    const error = await prefetchTiktoken({ outDir: out, encodings: [], baseUrl: server.url }).catch((e) => e);
    expect(error).toMatchObject({ code: 'EUSAGE' });
    const fetched = await runCli(['tiktoken', 'fetch', '--out', out, '--encodings', ' , ', '--json']);
    expect(fetched.code).toBe(2);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('stale temp files', () => {
  it('removes the temp files a killed run left, not those of a run still writing, nor other files', async () => {
    const out = await tempDir();
    const stale = `.${CL100K.cacheName}.0123456789ab.tmp`;
    const fresh = `.${R50K.cacheName}.ba9876543210.tmp`;
    const other = '.notes.0123456789ab.tmp';
    for (const name of [stale, fresh, other]) await writeFile(path.join(out, name), 'partial');
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    await utimes(path.join(out, stale), dayAgo, dayAgo);
    await utimes(path.join(out, other), dayAgo, dayAgo);
    const warnings: string[] = [];
    await prefetchTiktoken({
      outDir: out,
      encodings: ['cl100k_base'],
      baseUrl: server.url,
      onWarn: (w) => warnings.push(w),
    });
    const names = await readdir(out);
    expect(names).not.toContain(stale);
    expect(names).toEqual(expect.arrayContaining([fresh, other, CL100K.cacheName]));
    expect(warnings).toEqual([`${path.join(out, stale)}: removed, left by an interrupted run`]);
  });
});

describe('offline tiktoken fetch --deadline', () => {
  it('refuses a value that is not a duration (EUSAGE, exit 2)', async () => {
    const out = await tempDir();
    const fetched = await runCli(['tiktoken', 'fetch', '--out', out, '--deadline', 'soon', '--json']);
    expect(fetched.code).toBe(2);
    expect((fetched.json as { error: { message: string } }).error.message).toContain('--deadline');
  });
});
