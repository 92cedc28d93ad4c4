import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { IMAGES_ARCHIVE } from '../../src/bundle/layout.js';
import { locateBundle } from '../../src/bundle/locate.js';
import { type BundleReadHandler, type ReadOptions, readBundle } from '../../src/bundle/reader.js';
import { parseSize } from '../../src/bundle/size.js';
import type { OfflineError } from '../../src/errors.js';
import {
  craftBundle,
  type Fixture,
  type FixtureOptions,
  flipEntryByte,
  makeBundle,
  truncateBundle,
} from '../support/bundle-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const files = {
  'stack/docker-compose.yml': 'services:\n  web:\n    image: web:1\n',
  'stack/nginx/site.conf': 'server { listen 80; }\n'.repeat(50),
  [IMAGES_ARCHIVE]: randomBytes(2_500_000),
};
const tiktoken = { cl100k_base: 'IQ== 0\nIg== 1\n'.repeat(2000) };

const made: Fixture[] = [];
async function bundle(options: FixtureOptions = {}): Promise<Fixture> {
  const fixture = await makeBundle({ files, tiktoken, ...options });
  made.push(fixture);
  return fixture;
}
afterEach(async () => {
  await Promise.all(made.splice(0).map((f) => f.cleanup()));
});

/** Reads the bundle and returns the error it must fail with. */
async function failure(input: string, handler: BundleReadHandler = {}, options: ReadOptions = {}) {
  const error = await locateBundle(input)
    .then((location) => readBundle(location, handler, options))
    .then(
      () => undefined,
      (e: OfflineError) => e,
    );
  if (!error) throw new Error('the read succeeded but should have failed');
  return error;
}

/** A handler that consumes each entry as import does (piped to a sink), recording what it saw. */
function consumer() {
  const seen: string[] = [];
  const verified: string[] = [];
  const handler: BundleReadHandler = {
    onEntry: async (entry) => {
      seen.push(entry.path);
      await pipeline(entry.stream, new Writable({ write: (_c, _e, cb) => cb() }));
    },
    onEntryVerified: (p) => {
      verified.push(p);
    },
  };
  return { seen, verified, handler };
}

describe('reader faults: one byte flipped inside the archive', () => {
  const tiktokenFile = () => made[0]?.manifest.tiktoken.entries[0]?.file as string;
  it.each([
    ['a stack file', () => 'stack/nginx/site.conf'],
    ['a tiktoken file', tiktokenFile],
    ['the images archive', () => IMAGES_ARCHIVE],
  ])('%s: EINTEGRITY naming it with expected and found, never verified', async (_what, entryOf) => {
    const fixture = await bundle();
    const entry = entryOf();
    const want = fixture.manifest.files.find((f) => f.path === entry)?.sha256;
    await flipEntryByte(fixture, entry);
    const { seen, verified, handler } = consumer();
    const error = await failure(fixture.archive, handler);
    expect(error).toMatchObject({ code: 'EINTEGRITY', file: entry, expected: want });
    expect(error.message).toContain(entry);
    expect(error.found).toMatch(/^[0-9a-f]{64}$/);
    expect(error.found).not.toBe(want);
    expect(seen).toContain(entry);
    expect(verified).not.toContain(entry);
  });

  it('manifest.json: EINTEGRITY naming it before the handler hears of the lists', async () => {
    const fixture = await bundle();
    await flipEntryByte(fixture, 'manifest.json', 20);
    let listed = false;
    const error = await failure(fixture.archive, {
      onLists: () => {
        listed = true;
      },
    });
    expect(error).toMatchObject({ code: 'EINTEGRITY', file: 'manifest.json' });
    expect(listed).toBe(false);
  });

  it.each([10, 80, 140])('checksums.sha256 (byte %i): an error naming it or manifest.json', async (at) => {
    const fixture = await bundle();
    await flipEntryByte(fixture, 'checksums.sha256', at);
    const error = await failure(fixture.archive);
    expect(['EINTEGRITY', 'EMANIFEST']).toContain(error.code);
    expect(error.message).toMatch(/checksums\.sha256|manifest\.json/);
  });
});

describe('reader faults: the copy on the media', () => {
  it('a truncated archive with its old sidecar: EINTEGRITY naming the archive file', async () => {
    const fixture = await bundle();
    await truncateBundle(fixture, Math.floor(fixture.size * 0.6), 'keep');
    const { handler } = consumer();
    const error = await failure(fixture.archive, handler);
    expect(error).toMatchObject({
      code: 'EINTEGRITY',
      file: path.basename(fixture.archive),
      expected: fixture.sha256,
    });
  });

  it('truncated at the source (sidecar matches): EINTEGRITY naming the entry being read, consumer not left hanging', async () => {
    const fixture = await bundle();
    await truncateBundle(fixture, Math.floor(fixture.size * 0.6), 'update');
    const { handler } = consumer();
    const error = await failure(fixture.archive, handler);
    expect(error).toMatchObject({ code: 'EINTEGRITY', file: IMAGES_ARCHIVE });
    expect(error.message).toMatch(/damaged or truncated/);
  });

  it('cut inside its lists (sidecar matches): EINTEGRITY at every cut, never a read that just stops', async () => {
    const many = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`stack/conf/file-${i}.yml`, `key: ${i}\n`.repeat(40)]),
    );
    const fixture = await bundle({ files: { ...files, ...many } });
    const good = await readFile(fixture.archive);
    for (let cut = 100; cut < 12_000; cut += 700) {
      await writeFile(fixture.archive, good.subarray(0, cut));
      await truncateBundle(fixture, cut, 'update');
      const error = await failure(fixture.archive);
      expect(error.code, `cut at ${cut}`).toBe('EINTEGRITY');
    }
  });

  it('a damaged tar header (sidecar matches): EINTEGRITY naming the entry it heads, not the one before', async () => {
    const fixture = await bundle({ compression: 'none' });
    const bytes = await readFile(fixture.archive);
    const header = bytes.indexOf(
      `${fixture.options.name}-${fixture.options.version}/stack/nginx/site.conf\0`,
    );
    expect(header % 512).toBe(0);
    bytes[header + 148] = (bytes[header + 148] as number) ^ 0x01; // the header's checksum field
    await writeFile(fixture.archive, bytes);
    await truncateBundle(fixture, bytes.length, 'update');
    const error = await failure(fixture.archive, consumer().handler);
    expect(error).toMatchObject({ code: 'EINTEGRITY', file: 'stack/nginx/site.conf' });
  });

  it('a header whose path is not text (a file that is no tar, say): shown escaped on one line, not as a file name', async () => {
    const fixture = await bundle({ compression: 'none' });
    const bytes = await readFile(fixture.archive);
    // The first header's path: two text lines and a control byte, as in /etc/passwd given as a bundle.
    bytes.write('root:x:0:0\nbin:x:2:2\x07', 0, 'latin1');
    await writeFile(fixture.archive, bytes);
    await truncateBundle(fixture, bytes.length, 'update');
    const error = await failure(fixture.archive);
    expect(error).toMatchObject({ code: 'EINTEGRITY', file: path.basename(fixture.archive) });
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('damaged tar header of "root:x:0:0\\nbin:x:2:2\\u0007');
  });

  it('a corrupt part: EINTEGRITY naming that part with the sidecar sha256', async () => {
    const fixture = await bundle({ splitSize: parseSize('1M') });
    expect(fixture.parts.length).toBe(3);
    const part = fixture.parts[1] as string;
    const bytes = await readFile(part);
    const expected = (await readFile(fixture.sidecar, 'utf8')).split('\n')[1]?.slice(0, 64);
    bytes[1000] = (bytes[1000] as number) ^ 1;
    await writeFile(part, bytes);
    const { handler } = consumer();
    const error = await failure(fixture.parts[0] as string, handler);
    expect(error).toMatchObject({ code: 'EINTEGRITY', file: path.basename(part), expected });
    expect(error.message).toContain('copy this file again');
  });

  it('swapped parts: the first out-of-place part is named', async () => {
    const fixture = await bundle({ splitSize: parseSize('1M') });
    const [a, b] = fixture.parts as [string, string];
    await rename(a, `${a}.x`);
    await rename(b, a);
    await rename(`${a}.x`, b);
    const error = await failure(fixture.outDir);
    expect(error).toMatchObject({ code: 'EINTEGRITY', file: path.basename(a) });
  });

  it('a missing part: EMISSING naming it with its expected sha256, before any read', async () => {
    const fixture = await bundle({ splitSize: parseSize('1M') });
    const gone = fixture.parts[1] as string;
    const expected = (await readFile(fixture.sidecar, 'utf8')).split('\n')[1]?.slice(0, 64);
    await unlink(gone);
    const error = await failure(fixture.parts[0] as string);
    expect(error).toMatchObject({ code: 'EMISSING', file: path.basename(gone), expected });
  });

  it('a missing part without a sidecar: the gap in the numbering is named', async () => {
    const fixture = await bundle({ splitSize: parseSize('1M') });
    await unlink(fixture.sidecar);
    await unlink(fixture.parts[1] as string);
    const error = await failure(fixture.outDir);
    expect(error).toMatchObject({ code: 'EMISSING', file: path.basename(fixture.parts[1] as string) });
  });

  it('not gzip at all, whatever the name: EFORMAT or EINTEGRITY naming the archive', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'x-1.offline.tar.gz');
    await writeFile(file, randomBytes(10_000));
    const error = await failure(file);
    expect(['EFORMAT', 'EINTEGRITY']).toContain(error.code);
    expect(error.message).toContain('x-1.offline.tar.gz');
  });
});

describe('reader faults: what the lists say', () => {
  it('a file changed after its checksum with another size: EBADSIZE naming it', async () => {
    const fixture = await bundle({
      mutate: (dir) => writeFile(path.join(dir, 'stack/docker-compose.yml'), 'services: {}\n'),
    });
    const error = await failure(fixture.archive);
    expect(error).toMatchObject({
      code: 'EBADSIZE',
      file: 'stack/docker-compose.yml',
      expected: Buffer.byteLength(files['stack/docker-compose.yml']),
      found: 13,
    });
  });

  it('a listed file absent from the archive: EMISSING naming it', async () => {
    const fixture = await bundle({ mutate: (dir) => rm(path.join(dir, 'stack/nginx/site.conf')) });
    const error = await failure(fixture.archive);
    expect(error).toMatchObject({ code: 'EMISSING', file: 'stack/nginx/site.conf' });
  });

  it('a listed file absent, and the read stopped before the image archive (a re-import): still EMISSING', async () => {
    const fixture = await bundle({ mutate: (dir) => rm(path.join(dir, 'stack/nginx/site.conf')) });
    const error = await failure(fixture.archive, { stopBefore: (p) => p === IMAGES_ARCHIVE });
    expect(error).toMatchObject({ code: 'EMISSING', file: 'stack/nginx/site.conf' });
  });

  it('a file nobody listed: EUNLISTED naming it', async () => {
    const fixture = await bundle({ mutate: (dir) => writeFile(path.join(dir, 'stack/smuggled'), 'x') });
    const error = await failure(fixture.archive);
    expect(error).toMatchObject({ code: 'EUNLISTED', file: 'stack/smuggled' });
  });

  it('an unknown schema version: EFORMAT', async () => {
    const fixture = await bundle({ manifest: (m) => ({ ...m, schemaVersion: 2 }) });
    const error = await failure(fixture.archive);
    expect(error).toMatchObject({ code: 'EFORMAT', file: 'manifest.json', found: '2' });
  });

  it('verify mode reports every problem, each naming its file', async () => {
    const fixture = await bundle({
      mutate: async (dir) => {
        await writeFile(path.join(dir, 'stack/docker-compose.yml'), 'services: {}\n');
        await writeFile(path.join(dir, 'stack/nginx/site.conf'), 'server { listen 81; }\n'.repeat(50));
        await writeFile(path.join(dir, 'stack/smuggled'), 'x');
      },
    });
    const error = await failure(fixture.archive, {}, { failFast: false });
    expect(error.problems.map((p) => [p.code, p.file])).toEqual([
      ['EBADSIZE', 'stack/docker-compose.yml'],
      ['EINTEGRITY', 'stack/nginx/site.conf'],
      ['EUNLISTED', 'stack/smuggled'],
    ]);
  });
});

describe('reader faults: unsafe entries from a hand-made tar', () => {
  const listed = { 'stack/docker-compose.yml': 'services: {}\n' };
  it.each([
    ['a path climbing out', { path: '../../etc/x', content: 'pwned' }],
    ['a path climbing out from inside', { path: 'crafted-1.0.0/stack/../../../etc/x', content: 'pwned' }],
    ['an absolute path', { path: '/etc/x', content: 'pwned' }],
    ['a path outside the top folder', { path: 'elsewhere/x', content: 'pwned' }],
    [
      'a symlink out of the tree',
      { path: 'crafted-1.0.0/stack/link', type: 'SymbolicLink', linkpath: '/etc/passwd' },
    ],
    [
      'a hard link',
      { path: 'crafted-1.0.0/stack/hard', type: 'Link', linkpath: 'crafted-1.0.0/stack/docker-compose.yml' },
    ],
    ['a character device', { path: 'crafted-1.0.0/stack/null', type: 'CharacterDevice' }],
    ['a FIFO', { path: 'crafted-1.0.0/stack/fifo', type: 'FIFO' }],
  ] as const)('%s: EUNSAFE_PATH naming the entry, handler never given it', async (_what, entry) => {
    const archive = await craftBundle(await tempDir(), listed, [entry]);
    const { seen, handler } = consumer();
    const error = await failure(archive, handler);
    expect(error).toMatchObject({ code: 'EUNSAFE_PATH', file: entry.path });
    expect(error.message).toContain(entry.path);
    expect(seen).toEqual(['stack/docker-compose.yml']);
  });

  it('the hand-made tar without bad entries reads fine (the fixture itself is sound)', async () => {
    const archive = await craftBundle(await tempDir(), listed, [
      { path: 'crafted-1.0.0/stack/', type: 'Directory' },
    ]);
    const result = await readBundle(await locateBundle(archive));
    expect(result.verified.map((v) => v.path)).toEqual(['manifest.json', 'stack/docker-compose.yml']);
  });

  it('a tar whose first entry is not manifest.json: EFORMAT', async () => {
    const dir = await tempDir();
    const tarBytes = gunzipSync(await readFile(await craftBundle(dir, listed, [])));
    // Drop the first entry (manifest.json: header + padded body) so checksums.sha256 comes first.
    const size = Number.parseInt(tarBytes.subarray(124, 136).toString().trim(), 8);
    const headless = path.join(dir, 'headless-1.offline.tar.gz');
    await writeFile(headless, gzipSync(tarBytes.subarray(512 + Math.ceil(size / 512) * 512)));
    const error = await failure(headless);
    expect(error).toMatchObject({ code: 'EFORMAT', expected: 'manifest.json', found: 'checksums.sha256' });
  });
});

describe('reader: consumers', () => {
  it('stops before the image archive without error when the handler asks', async () => {
    const fixture = await bundle();
    const { seen, handler } = consumer();
    const result = await readBundle(await locateBundle(fixture.archive), {
      ...handler,
      stopBefore: (p) => p === IMAGES_ARCHIVE,
    });
    expect(result.stoppedBefore).toBe(IMAGES_ARCHIVE);
    expect(seen).not.toContain(IMAGES_ARCHIVE);
  });

  it('a handler error stops the read and is rethrown as is', async () => {
    const fixture = await bundle();
    const boom = new Error('engine refused the load');
    const error = await failure(fixture.archive, {
      onEntry: async (entry) => {
        if (entry.path === IMAGES_ARCHIVE) throw boom;
        entry.stream.resume();
      },
    });
    expect(error).toBe(boom);
  });

  it('a handler error on an entry whose bytes are damaged: EINTEGRITY naming the entry, the error as its cause', async () => {
    const fixture = await bundle();
    await flipEntryByte(fixture, IMAGES_ARCHIVE, 2_000_000);
    const refused = new Error('invalid diffID for layer 1');
    const error = await failure(fixture.archive, {
      onEntry: async (entry) => {
        if (entry.path !== IMAGES_ARCHIVE) return void entry.stream.resume();
        // Like a load request (docker-modem pipes the archive into it): it fails on the first piece it gets.
        await new Promise((_resolve, reject) => {
          const request = new Writable({ write: (_chunk, _encoding, callback) => callback(refused) });
          request.on('error', reject);
          entry.stream.pipe(request);
        });
      },
    });
    expect(error).toMatchObject({
      code: 'EINTEGRITY',
      file: IMAGES_ARCHIVE,
      expected: fixture.manifest.files.find((f) => f.path === IMAGES_ARCHIVE)?.sha256,
    });
    expect(error.cause).toBe(refused);
  });

  it('an abort signal stops the read with its reason', async () => {
    const fixture = await bundle();
    const controller = new AbortController();
    const error = await failure(
      fixture.archive,
      {
        onEntry: async (entry) => {
          if (entry.path === IMAGES_ARCHIVE) controller.abort(new Error('Ctrl-C'));
          await pipeline(entry.stream, new Writable({ write: (_c, _e, cb) => cb() })).catch(() => {});
        },
      },
      { signal: controller.signal },
    );
    expect(error.message).toBe('Ctrl-C');
  });
});
