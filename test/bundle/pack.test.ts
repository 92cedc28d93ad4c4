import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { finalizeStaging } from '../../src/bundle/finalize.js';
import { locateBundle } from '../../src/bundle/locate.js';
import { type PackOptions, packBundle, parseSize } from '../../src/bundle/pack.js';
import { GZIP_BLOCK } from '../../src/bundle/parallel-gzip.js';
import { readBundle } from '../../src/bundle/reader.js';
import { baseManifest, bundleLeftovers } from '../support/bundle-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const mtime = new Date('2026-01-01T00:00:00Z');

/** A finalised staging folder with ~10 MB of mixed text and random bytes (several gzip members). */
async function staging(): Promise<string> {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'stack'), { recursive: true });
  await mkdir(path.join(dir, 'images'), { recursive: true });
  await writeFile(path.join(dir, 'stack/docker-compose.yml'), 'services: {}\n');
  const text = Buffer.from('layer text that compresses well\n'.repeat(150_000));
  await writeFile(path.join(dir, 'images/images.tar'), Buffer.concat([text, randomBytes(5_000_000)]));
  await finalizeStaging(dir, baseManifest('packt', '1.0.0', mtime));
  return dir;
}

function options(stagingDir: string, outDir: string, more: Partial<PackOptions> = {}): PackOptions {
  return { stagingDir, outDir, name: 'packt', version: '1.0.0', compression: 'gzip', mtime, ...more };
}

describe('packBundle', () => {
  it('is deterministic: the same staging folder and mtime give the same bytes, twice, into two folders', async () => {
    const dir = await staging();
    const a = await packBundle(options(dir, await tempDir()));
    const b = await packBundle(options(dir, await tempDir()));
    expect(a.sha256).toBe(b.sha256);
    expect((await readFile(a.archive)).equals(await readFile(b.archive))).toBe(true);
    expect(await readFile(a.sidecar, 'utf8')).toBe(`${a.sha256}  packt-1.0.0.offline.tar.gz\n`);
  });

  it('gzip: several concatenated members that GNU gzip, GNU tar and the reader all read', async () => {
    const dir = await staging();
    const out = await tempDir();
    const packed = await packBundle(options(dir, out));
    const bytes = await readFile(packed.archive);
    const memberHeader = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03]);
    let members = 0;
    for (let at = bytes.indexOf(memberHeader); at >= 0; at = bytes.indexOf(memberHeader, at + 1)) members++;
    expect(members).toBeGreaterThanOrEqual(Math.floor(10_000_000 / GZIP_BLOCK));
    execFileSync('gzip', ['-t', packed.archive]);
    const listing = execFileSync('bash', ['-c', `gzip -dc ${packed.archive} | tar tf -`], {
      encoding: 'utf8',
    });
    expect(listing.split('\n').slice(0, 3)).toEqual([
      'packt-1.0.0/manifest.json',
      'packt-1.0.0/checksums.sha256',
      'packt-1.0.0/README.txt',
    ]);
    expect(listing.trim().split('\n').at(-1)).toBe('packt-1.0.0/images/images.tar');
    const result = await readBundle(await locateBundle(packed.archive));
    expect(result.verified.map((v) => v.path)).toContain('images/images.tar');
  });

  it.each([
    ['gzip', undefined],
    ['gzip', parseSize('2M')],
    ['zstd', undefined],
    ['none', parseSize('3M')],
  ] as const)(
    '%s (split %s): an abort mid-way leaves no temp file and nothing that looks finished',
    async (compression, splitSize) => {
      const dir = await staging();
      const out = await tempDir();
      const controller = new AbortController();
      const pack = packBundle(
        options(dir, out, {
          compression,
          ...(splitSize !== undefined && { splitSize }),
          signal: controller.signal,
          onProgress: (bytes) => {
            if (bytes > 6_000_000) controller.abort(new Error('Ctrl-C'));
          },
        }),
      );
      await expect(pack).rejects.toThrow();
      expect(await bundleLeftovers(out)).toEqual([]);
    },
  );

  it('zstd: a clear error when the zstd tool is missing, and nothing left behind', async () => {
    const dir = await staging();
    const out = await tempDir();
    vi.stubEnv('PATH', '/nonexistent');
    await expect(packBundle(options(dir, out, { compression: 'zstd' }))).rejects.toMatchObject({
      code: 'EUSAGE',
      message: expect.stringContaining('zstd is not installed'),
    });
    vi.unstubAllEnvs();
    expect(await bundleLeftovers(out)).toEqual([]);
  });

  it('zstd: a .tar.zst that zstd and tar read back, and so does the reader', async () => {
    const dir = await staging();
    const packed = await packBundle(options(dir, await tempDir(), { compression: 'zstd' }));
    expect(packed.archive).toMatch(/\.offline\.tar\.zst$/);
    const listing = execFileSync('bash', ['-c', `zstd -dc ${packed.archive} | tar tf -`], {
      encoding: 'utf8',
    });
    expect(listing.split('\n')[0]).toBe('packt-1.0.0/manifest.json');
    const result = await readBundle(await locateBundle(packed.archive));
    expect(result.verified.length).toBe(4);
  });

  it('parseSize: units, fat32, and refusals', () => {
    expect(parseSize('4G')).toBe(4 * 1024 ** 3);
    expect(parseSize('700M')).toBe(700 * 1024 ** 2);
    expect(parseSize('fat32')).toBe(4 * 1024 ** 3 - 1);
    expect(parseSize('123')).toBe(123);
    expect(parseSize('1.5K')).toBe(1536);
    expect(() => parseSize('0')).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
    expect(() => parseSize('lots')).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
  });
});
