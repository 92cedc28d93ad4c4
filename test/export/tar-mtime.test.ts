import { execFileSync } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import * as tar from 'tar';
import { describe, expect, it } from 'vitest';
import { TarMtimeNormalizer } from '../../src/export/tar-mtime.js';
import { tempDir } from '../support/temp-dir.js';

/** Feeds bytes in awkward chunk sizes, so headers straddle chunk boundaries. */
function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

describe('TarMtimeNormalizer', () => {
  it('sets every entry mtime, keeps contents and valid header checksums, whatever the chunking', async () => {
    const dir = await tempDir();
    const long = `${'deep/'.repeat(30)}file.txt`;
    await mkdir(path.join(dir, 'src', path.dirname(long)), { recursive: true });
    await writeFile(path.join(dir, 'src/a.txt'), 'alpha\n');
    await writeFile(path.join(dir, 'src/big.bin'), Buffer.alloc(70_000, 7));
    await writeFile(path.join(dir, 'src', long), 'long name\n');
    await utimes(path.join(dir, 'src/a.txt'), 1_000_000, 1_000_000);
    const original = await buffer(tar.c({ cwd: path.join(dir, 'src') }, ['.']) as unknown as Readable);
    const mtime = new Date('2023-11-14T22:13:20Z');
    for (const size of [1, 511, 513, 4096, 1 << 20]) {
      const out = await buffer(chunked(original, size).pipe(new TarMtimeNormalizer(mtime)));
      expect(out.length).toBe(original.length);
      const file = path.join(dir, `out-${size}.tar`);
      await writeFile(file, out);
      const listing = execFileSync('tar', ['--full-time', '-tvf', file], {
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC' },
      })
        .trim()
        .split('\n');
      expect(
        listing.every((line) => line.includes('2023-11-14 22:13:20')),
        listing.join('\n'),
      ).toBe(true);
      expect(execFileSync('tar', ['-xOf', file, './a.txt'], { encoding: 'utf8' })).toBe('alpha\n');
      expect(execFileSync('tar', ['-xOf', file, `./${long}`], { encoding: 'utf8' })).toBe('long name\n');
    }
  });
});
