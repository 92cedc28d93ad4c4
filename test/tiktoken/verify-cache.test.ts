import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheFileName, canonicalUrl, legacyUrl } from '../../src/tiktoken/cache-name.js';
import { prefetchTiktoken } from '../../src/tiktoken/prefetch.js';
import { ENCODING_FILES } from '../../src/tiktoken/registry.js';
import { verifyTiktokenCache } from '../../src/tiktoken/verify-cache.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';
import { REAL_FILES } from '../support/tiktoken-server.js';

const CL100K = ENCODING_FILES.find((f) => f.encoding === 'cl100k_base');
if (!CL100K) throw new Error('cl100k_base is not in the registry');
const CL100K_NAME = cacheFileName(canonicalUrl(CL100K.urlPath));

/** A cache folder whose index lists nothing. */
async function emptyIndex(): Promise<string> {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'index.json'), '{"files":[]}\n');
  return dir;
}

describe('verifyTiktokenCache', () => {
  it('checks a file under a pinned cache name that the index does not list: garbage fails', async () => {
    const dir = await emptyIndex();
    await writeFile(path.join(dir, CL100K_NAME), 'garbage!');
    const { problems } = await verifyTiktokenCache(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      code: 'EBADSIZE',
      expected: CL100K.size,
      found: 8,
      file: CL100K_NAME,
    });
    const verified = await runCli(['tiktoken', 'verify', dir, '--json']);
    expect(verified.code).toBe(3);
  });

  it('reports EINTEGRITY with the pinned and found sha256 for wrong bytes of the right size', async () => {
    const dir = await emptyIndex();
    await writeFile(path.join(dir, CL100K_NAME), Buffer.alloc(CL100K.size, 1));
    const { problems } = await verifyTiktokenCache(dir);
    expect(problems).toEqual([
      expect.objectContaining({ code: 'EINTEGRITY', expected: CL100K.sha256, found: expect.any(String) }),
    ]);
    expect(problems[0]?.message).toContain('not in index.json');
  });

  it('checks the legacy az:// name too, and counts a correct unlisted file as verified', async () => {
    const dir = await emptyIndex();
    const legacy = legacyUrl(CL100K.urlPath) as string;
    await writeFile(path.join(dir, cacheFileName(legacy)), 'garbage!');
    await copyFile(path.resolve(REAL_FILES[CL100K.urlPath] as string), path.join(dir, CL100K_NAME));
    const { verified, problems } = await verifyTiktokenCache(dir);
    expect(problems).toEqual([expect.objectContaining({ code: 'EBADSIZE', file: cacheFileName(legacy) })]);
    expect(verified).toEqual([
      expect.objectContaining({
        encoding: 'cl100k_base',
        file: CL100K_NAME,
        url: canonicalUrl(CL100K.urlPath),
      }),
    ]);
  });

  it('passes a folder prefetch wrote, with other files beside it', async () => {
    const from = await tempDir();
    await copyFile(path.resolve(REAL_FILES[CL100K.urlPath] as string), path.join(from, CL100K.plainName));
    const dir = await tempDir();
    await prefetchTiktoken({
      outDir: dir,
      encodings: ['cl100k_base'],
      fromDir: from,
      baseUrl: 'http://127.0.0.1:9',
    });
    await writeFile(path.join(dir, 'README.txt'), 'not a cache file');
    const { verified, problems } = await verifyTiktokenCache(dir);
    expect(problems).toEqual([]);
    expect(verified.map((f) => f.file)).toEqual([CL100K_NAME]);
  });
});

describe('verifyTiktokenCache without a usable index', () => {
  it('checks a cache tiktoken filled itself (sha1 names, no index.json) by the pinned names', async () => {
    const dir = await tempDir();
    await copyFile(path.resolve(REAL_FILES[CL100K.urlPath] as string), path.join(dir, CL100K_NAME));
    const { verified, problems } = await verifyTiktokenCache(dir);
    expect(problems).toEqual([]);
    expect(verified.map((f) => f.file)).toEqual([CL100K_NAME]);
    expect((await runCli(['tiktoken', 'verify', dir])).code).toBe(0);
  });

  it('reports a folder with neither index.json nor a cache file as EMISSING', async () => {
    const { problems } = await verifyTiktokenCache(await tempDir());
    expect(problems).toEqual([expect.objectContaining({ code: 'EMISSING' })]);
  });

  it.each(['{}', '{"files": {}}', '[1]', 'not json', '{"files": [{"url": 1}]}'])(
    'reports index.json %s as EMANIFEST, never a crash',
    async (text) => {
      const dir = await tempDir();
      await writeFile(path.join(dir, 'index.json'), text);
      await expect(verifyTiktokenCache(dir)).rejects.toMatchObject({ code: 'EMANIFEST' });
    },
  );

  it('exits 3 with EMANIFEST on an index.json of {}', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'index.json'), '{}');
    const verified = await runCli(['tiktoken', 'verify', dir, '--json']);
    expect(verified.code).toBe(3);
    expect((verified.json as { error: { code: string } }).error.code).toBe('EMANIFEST');
  });

  it('exits 2 with EUSAGE naming a folder that is not there, or a file given as the folder', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'notes.txt');
    await writeFile(file, 'x');
    for (const [given, why] of [
      [path.join(dir, 'nope'), 'no such folder'],
      [file, 'not a folder'],
    ] as const) {
      const verified = await runCli(['tiktoken', 'verify', given, '--json']);
      expect(verified.code, verified.stderr).toBe(2);
      expect((verified.json as { error: unknown }).error).toMatchObject({
        code: 'EUSAGE',
        file: given,
        message: `${given}: ${why}`,
      });
    }
  });
});
