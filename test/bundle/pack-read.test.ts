import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { locateBundle } from '../../src/bundle/locate.js';
import { readBundle } from '../../src/bundle/reader.js';
import { parseSize } from '../../src/bundle/size.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const files = {
  'stack/docker-compose.yml': 'services:\n  web:\n    image: web:1\n',
  'stack/.env.example': 'SECRET_KEY=\n',
  'stack/config/名 字.txt': '中文\n',
  'tiktoken/abc': Buffer.alloc(300_000, 7),
};

const made: Fixture[] = [];
async function bundle(options: Parameters<typeof makeBundle>[0] = {}): Promise<Fixture> {
  const fixture = await makeBundle({ files, ...options });
  made.push(fixture);
  return fixture;
}
afterEach(async () => {
  await Promise.all(made.splice(0).map((f) => f.cleanup()));
});

describe('pack and read', () => {
  it('round-trips every file, lists first, verified while streaming', async () => {
    const fixture = await bundle();
    const order: string[] = [];
    const result = await readBundle(await locateBundle(fixture.archive), {
      onEntryVerified: (p) => {
        order.push(p);
      },
    });
    expect(result.manifest.name).toBe('fixture');
    expect(result.verified.map((v) => v.path).sort()).toEqual(
      ['README.txt', 'manifest.json', ...Object.keys(files)].sort(),
    );
    expect(order[0]).toBe('README.txt');
  });

  it('is deterministic: same staging and mtime give the same bytes', async () => {
    const a = await bundle();
    const b = await bundle();
    expect(a.sha256).toBe(b.sha256);
    expect(await readFile(a.archive)).toEqual(await readFile(b.archive));
  });

  it('writes a tar that GNU tar extracts and sha256sum -c accepts, with a sidecar sha256sum -c accepts', async () => {
    const fixture = await bundle();
    execFileSync('sha256sum', ['-c', path.basename(fixture.sidecar)], { cwd: fixture.outDir });
    const dest = await tempDir();
    execFileSync('tar', ['xzf', fixture.archive, '-C', dest]);
    const out = execFileSync('sha256sum', ['-c', 'checksums.sha256'], {
      cwd: path.join(dest, 'fixture-1.0.0'),
      encoding: 'utf8',
    });
    expect(out).toContain('manifest.json: OK');
    expect(out).toContain('stack/config/名 字.txt: OK');
  });

  it('splits into parts that sha256sum -c checks and cat + tar joins', async () => {
    const fixture = await bundle({
      splitSize: parseSize('1M'),
      files: { ...files, 'tiktoken/big': randomBytes(3_000_000) },
    });
    expect(fixture.parts.length).toBeGreaterThan(1);
    execFileSync('sha256sum', ['-c', path.basename(fixture.sidecar)], { cwd: fixture.outDir });
    const dest = await tempDir();
    execFileSync('bash', ['-c', `cat ${fixture.archive}.part* | tar xzf - -C ${dest}`]);
    execFileSync('sha256sum', ['-c', 'checksums.sha256'], { cwd: path.join(dest, 'fixture-1.0.0') });
    const result = await readBundle(await locateBundle(fixture.parts[1] as string));
    expect(result.verified.length).toBe(7);
    expect((await readdir(fixture.outDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it.each(['zstd', 'none'] as const)('round-trips with %s compression', async (compression) => {
    const fixture = await bundle({ compression });
    const result = await readBundle(await locateBundle(fixture.outDir));
    expect(result.verified.length).toBe(6);
  });

  it('stops before an entry when asked, without error', async () => {
    const fixture = await bundle();
    const limit = Error.stackTraceLimit;
    const result = await readBundle(await locateBundle(fixture.archive), {
      stopBefore: (p) => p.startsWith('tiktoken/'),
    });
    expect(result.stoppedBefore).toBe('tiktoken/abc');
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('takes no bytes from the media while onLists decides, and little past a stop', async () => {
    // Random bytes do not compress: the archive is about 8 MiB, nearly all of it after the stop.
    const fixture = await bundle({ files: { ...files, 'tiktoken/abc': randomBytes(8 * 1024 * 1024) } });
    let bytes = 0;
    const seen: number[] = [];
    const result = await readBundle(
      await locateBundle(fixture.archive),
      {
        onLists: async () => {
          seen.push(bytes);
          await new Promise((resolve) => setTimeout(resolve, 200));
          seen.push(bytes);
        },
        stopBefore: (p) => p.startsWith('tiktoken/'),
      },
      { onBytes: (n) => (bytes = n) },
    );
    expect(result.stoppedBefore).toBe('tiktoken/abc');
    expect(seen[1]).toBe(seen[0]);
    // Reads begin at 64 KiB and double: a few are under way while the head is inflated, and the stop comes
    // before the reads reach 1 MiB each. Before, reads of 1 MiB went on during onLists, to the archive's end.
    expect(bytes).toBeLessThan(4 * 1024 * 1024);
  });
});
