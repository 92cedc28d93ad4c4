import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it, vi } from 'vitest';
import { createCompressor, createDecompressor } from '../../src/bundle/compress.js';
import { packBundle } from '../../src/bundle/pack.js';
import { bundleLeftovers } from '../support/bundle-fixture.js';
import { tempDir } from '../support/temp-dir.js';

/** Puts a shell script named zstd first on PATH for this test. */
async function fakeZstd(script: string): Promise<void> {
  const bin = await tempDir();
  await writeFile(path.join(bin, 'zstd'), `#!/bin/sh\n${script}\n`);
  await chmod(path.join(bin, 'zstd'), 0o755);
  vi.stubEnv('PATH', `${bin}:${process.env.PATH}`);
}

/** Reads its input whole, writes a zstd magic and a few bytes, complains of a full disk and exits 1. */
const DISK_FULL = `cat >/dev/null
printf '\\050\\265\\057\\375partial'
echo "zstd: error 70 : Write error : No space left on device" >&2
exit 1`;

/** Writes part of an output, then dies by SIGKILL (exit code null) without a word. */
const KILLED = `head -c 1000 >/dev/null
printf '\\050\\265\\057\\375partial'
kill -KILL $$`;

/** Runs `input` through the filter; resolves with what came out. */
async function through(filter: NodeJS.ReadWriteStream, input: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([input]),
    filter,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

describe('zstd through a child process: the stream fails unless zstd exits 0', () => {
  const input = randomBytes(256 * 1024);

  it('passes the bytes on and ends when the tool exits 0', async () => {
    await fakeZstd('exec cat');
    expect((await through(createCompressor('zstd'), input)).equals(input)).toBe(true);
    expect((await through(createDecompressor('zstd'), input)).equals(input)).toBe(true);
  });

  it('compressing: a non-zero exit fails with its stderr, not a complete-looking output', async () => {
    await fakeZstd(DISK_FULL);
    await expect(through(createCompressor('zstd'), input)).rejects.toMatchObject({
      code: 'EINTERNAL',
      expected: 'exit 0',
      found: 'exit 1',
      message: expect.stringContaining('No space left on device'),
    });
  });

  it('compressing: a death by signal fails too', async () => {
    await fakeZstd(KILLED);
    await expect(through(createCompressor('zstd'), input)).rejects.toMatchObject({
      code: 'EINTERNAL',
      found: 'signal SIGKILL',
    });
  });

  it('decompressing: a non-zero exit or a signal fails the stream with zstd stderr (the reader names the damage)', async () => {
    await fakeZstd(DISK_FULL);
    await expect(through(createDecompressor('zstd'), input)).rejects.toThrow(
      /^zstd failed \(exit 1\): .*No space left on device/,
    );
    await fakeZstd(KILLED);
    await expect(through(createDecompressor('zstd'), input)).rejects.toThrow(
      /^zstd failed \(signal SIGKILL\)/,
    );
  });

  it('packBundle with a failing zstd leaves no archive and no sidecar', async () => {
    const staging = await tempDir();
    await mkdir(path.join(staging, 'images'));
    await writeFile(path.join(staging, 'images/images.tar'), input);
    const out = await tempDir();
    for (const script of [DISK_FULL, KILLED]) {
      await fakeZstd(script);
      await expect(
        packBundle({
          stagingDir: staging,
          outDir: out,
          name: 'demo',
          version: '1',
          compression: 'zstd',
          mtime: new Date(0),
        }),
      ).rejects.toMatchObject({ code: 'EINTERNAL' });
      expect(await bundleLeftovers(out)).toEqual([]);
    }
  });
});
