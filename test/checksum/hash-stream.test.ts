import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ssri from 'ssri';
import { describe, expect, it } from 'vitest';
import { hashFile } from '../../src/checksum/hash-file.js';
import { HashStream, integrityOf } from '../../src/checksum/hash-stream.js';
import { tempDir } from '../support/temp-dir.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Deterministic bytes of any length, not all alike, so a wrong chunk boundary would change the hash. */
function bytes(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + (i >> 11)) & 0xff;
  return out;
}

describe('HashStream', () => {
  it('passes every byte through unchanged and hashes them while they flow', async () => {
    const data = bytes(3 * 1024 * 1024 + 17);
    const seen: Buffer[] = [];
    const progress: number[] = [];
    const hasher = new HashStream((n) => progress.push(n));
    const chunks = [data.subarray(0, 5), data.subarray(5, 70_000), data.subarray(70_000)];
    await pipeline(
      Readable.from(chunks),
      hasher,
      new Writable({
        write(chunk: Buffer, _enc, done) {
          seen.push(chunk);
          done();
        },
      }),
    );
    expect(Buffer.concat(seen).equals(data)).toBe(true);
    expect(hasher.digest).toEqual({ sha256: sha256(data), size: data.length });
    expect(progress).toEqual([5, 70_000, data.length]);
  });

  it('refuses to give a digest before the stream has finished', () => {
    expect(() => new HashStream().digest).toThrow(/before the stream finished/);
  });
});

describe('hashFile', () => {
  it.each([0, 1, 64 * 1024, 64 * 1024 + 1, 1024 * 1024, 2 * 1024 * 1024 + 3])(
    'gives the sha256 and size of a %i-byte file, with or without a known size',
    async (length) => {
      const file = path.join(await tempDir(), 'f');
      const data = bytes(length);
      await writeFile(file, data);
      const want = { sha256: sha256(data), size: length };
      expect(await hashFile(file)).toEqual(want);
      expect(await hashFile(file, length)).toEqual(want);
    },
  );

  it('rejects with ENOENT for a missing file', async () => {
    await expect(hashFile(path.join(await tempDir(), 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('integrityOf', () => {
  it('gives the ssri sha256 integrity string for a hex digest', () => {
    const data = 'hello offline\n';
    expect(integrityOf(sha256(data))).toBe(ssri.fromData(data, { algorithms: ['sha256'] }).toString());
    expect(integrityOf(sha256(data))).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
  });
});
