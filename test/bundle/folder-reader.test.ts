import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { IMAGES_ARCHIVE, STACK_DIR } from '../../src/bundle/layout.js';
import { locateBundle } from '../../src/bundle/locate.js';
import { type BundleReadHandler, type ReadOptions, readBundle } from '../../src/bundle/reader.js';
import type { OfflineError } from '../../src/errors.js';
import { importOutputs } from '../../src/selfcontained/in-place.js';
import { extractFixture, type Fixture, type FixtureOptions, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';

const files = {
  'stack/docker-compose.yml': 'services:\n  web:\n    image: web:1\n',
  'stack/entry.sh': '#!/bin/sh\necho hi\n',
  [IMAGES_ARCHIVE]: randomBytes(1_500_000),
};
const tiktoken = { cl100k_base: 'IQ== 0\nIg== 1\n'.repeat(2000) };

const cleanups: (() => Promise<void>)[] = [];
/** A real bundle extracted with GNU tar: the folder a user gets with `tar xzf` and cd. */
async function extracted(options: FixtureOptions = {}): Promise<{ fixture: Fixture; dir: string }> {
  const fixture = await makeBundle({ files, tiktoken, ...options });
  const { root, dir } = await extractFixture(fixture);
  cleanups.push(fixture.cleanup, () => rm(root, { recursive: true, force: true }));
  return { fixture, dir };
}
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function consumer() {
  const seen: string[] = [];
  const handler: BundleReadHandler = {
    onEntry: async (entry) => {
      seen.push(entry.path);
      await pipeline(entry.stream, new Writable({ write: (_c, _e, cb) => cb() }));
    },
  };
  return { seen, handler };
}

async function failure(dir: string, handler: BundleReadHandler = {}, options: ReadOptions = {}) {
  const error = await locateBundle(dir)
    .then((location) => readBundle(location, handler, options))
    .then(
      () => undefined,
      (e: OfflineError) => e,
    );
  if (!error) throw new Error('the read succeeded but should have failed');
  return error;
}

describe('reading an extracted bundle folder', () => {
  it('locates it as a folder and verifies every file in archive order, images last', async () => {
    const { fixture, dir } = await extracted();
    const location = await locateBundle(dir);
    expect(location.kind).toBe('folder');
    const { seen, handler } = consumer();
    const result = await readBundle(location, handler);
    expect(result.manifest.name).toBe('fixture');
    expect(seen[0]).toBe('README.txt');
    expect(seen.at(-1)).toBe(IMAGES_ARCHIVE);
    expect(result.verified.map((v) => v.path).sort()).toEqual(
      ['manifest.json', ...fixture.manifest.files.map((f) => f.path)].sort(),
    );
  });

  it('hands each file to the handler as it streams, executable bit included', async () => {
    const { dir } = await extracted();
    const got = new Map<string, { bytes: Buffer; executable: boolean }>();
    await readBundle(await locateBundle(dir), {
      onEntry: async (entry) => {
        const chunks: Buffer[] = [];
        for await (const c of entry.stream) chunks.push(c as Buffer);
        got.set(entry.path, { bytes: Buffer.concat(chunks), executable: entry.executable });
      },
    });
    expect(got.get('stack/entry.sh')?.bytes.toString()).toBe(files['stack/entry.sh']);
    expect(got.get(IMAGES_ARCHIVE)?.bytes.equals(files[IMAGES_ARCHIVE])).toBe(true);
    expect(got.get('stack/docker-compose.yml')?.executable).toBe(false);
  });

  it('names a changed byte (EINTEGRITY)', async () => {
    const { dir } = await extracted();
    const file = path.join(dir, 'stack/docker-compose.yml');
    const bytes = await readFile(file);
    bytes[3] = (bytes[3] as number) ^ 0xff;
    await writeFile(file, bytes);
    expect(await failure(dir, consumer().handler)).toMatchObject({
      code: 'EINTEGRITY',
      file: 'stack/docker-compose.yml',
    });
  });

  it('names a cut file (EBADSIZE), a missing one (EMISSING) and an extra one (EUNLISTED), all in one verify', async () => {
    const { dir } = await extracted();
    await truncate(path.join(dir, IMAGES_ARCHIVE), 1000);
    await rm(path.join(dir, 'stack/entry.sh'));
    await writeFile(path.join(dir, 'stack/extra.txt'), 'x');
    const error = await failure(dir, {}, { failFast: false });
    expect(error.problems.map((p) => [p.code, p.file]).sort()).toEqual(
      [
        ['EBADSIZE', IMAGES_ARCHIVE],
        ['EMISSING', 'stack/entry.sh'],
        ['EUNLISTED', 'stack/extra.txt'],
      ].sort(),
    );
  });

  it('refuses a listed file replaced by a symlink, and a symlinked folder, without following them', async () => {
    const { dir } = await extracted();
    await rm(path.join(dir, 'stack/docker-compose.yml'));
    await symlink('/etc/passwd', path.join(dir, 'stack/docker-compose.yml'));
    await symlink('/etc', path.join(dir, 'etc-link'));
    const error = await failure(dir, consumer().handler, { failFast: false });
    expect(error.problems.map((p) => [p.code, p.file]).sort()).toEqual([
      ['EUNSAFE_PATH', 'etc-link'],
      ['EUNSAFE_PATH', 'stack/docker-compose.yml'],
    ]);
  });

  it('refuses checksums.sha256 naming a path outside the folder (EUNSAFE_PATH)', async () => {
    const { dir } = await extracted();
    await appendFile(path.join(dir, 'checksums.sha256'), `${'0'.repeat(64)}  ../outside.txt\n`);
    expect(await failure(dir)).toMatchObject({ code: 'EUNSAFE_PATH' });
  });

  it('checks manifest.json against its line first (EINTEGRITY) before trusting it', async () => {
    const { dir } = await extracted();
    const file = path.join(dir, 'manifest.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"fixture"', '"fixturx"'));
    expect(await failure(dir)).toMatchObject({ code: 'EINTEGRITY', file: 'manifest.json' });
  });

  it('stops before an entry when the handler says so (images already present)', async () => {
    const { dir } = await extracted();
    const { seen, handler } = consumer();
    const result = await readBundle(await locateBundle(dir), {
      ...handler,
      stopBefore: (p) => p === IMAGES_ARCHIVE,
    });
    expect(result.stoppedBefore).toBe(IMAGES_ARCHIVE);
    expect(seen).not.toContain(IMAGES_ARCHIVE);
  });

  it('reports a file nobody listed even when the read stopped before the images (a re-import)', async () => {
    const { dir } = await extracted();
    await writeFile(path.join(dir, 'stack/extra.txt'), 'x');
    const error = await failure(dir, {}, {});
    expect(error).toMatchObject({ code: 'EUNLISTED', file: 'stack/extra.txt' });
    const stopped = await failure(dir, { stopBefore: (p) => p === IMAGES_ARCHIVE });
    expect(stopped).toMatchObject({ code: 'EUNLISTED', file: 'stack/extra.txt' });
  });

  it("leaves an in-place import's own files out of EUNLISTED, and nothing else", async () => {
    const { dir } = await extracted();
    await writeFile(path.join(dir, 'stack/.env'), 'A=1\n');
    await writeFile(path.join(dir, 'stack/import-report.json'), '{}');
    await mkdir(path.join(dir, 'stack/.offline'), { recursive: true });
    await writeFile(path.join(dir, 'stack/.offline/README.txt'), 'x');
    await mkdir(path.join(dir, 'stack/tiktoken'), { recursive: true });
    const tiktokenFile = (await readFile(path.join(dir, 'checksums.sha256'), 'utf8')).match(
      /tiktoken\/[0-9a-f]{40}/,
    )?.[0];
    await writeFile(path.join(dir, 'stack', tiktokenFile as string), 'x');
    const ignore = importOutputs(dir, path.join(dir, STACK_DIR));
    await readBundle(await locateBundle(dir), {}, { ...(ignore && { ignoreUnlisted: ignore }) });
    await writeFile(path.join(dir, 'stack/other.txt'), 'x');
    const error = await failure(dir, {}, { ...(ignore && { ignoreUnlisted: ignore }) });
    expect(error).toMatchObject({ code: 'EUNLISTED', file: 'stack/other.txt' });
  });
});

describe('bundle format version', () => {
  for (const kind of ['archive', 'folder'] as const) {
    it(`refuses an unknown schemaVersion with EFORMAT naming both versions (${kind})`, async () => {
      const { fixture, dir } = await extracted({ manifest: (m) => ({ ...m, schemaVersion: 2 }) });
      const error = await failure(kind === 'folder' ? dir : fixture.archive);
      expect(error).toMatchObject({ code: 'EFORMAT', file: 'manifest.json', expected: 1, found: '2' });
      expect(error.message).toMatch(/bundle format version 2 is not supported/);
    });
  }

  it('refuses a manifest of another format (EFORMAT)', async () => {
    const { dir } = await extracted({
      manifest: (m) => ({ ...m, format: 'other-bundle' }) as unknown as typeof m,
    });
    expect(await failure(dir)).toMatchObject({ code: 'EFORMAT', found: 'other-bundle' });
  });
});

describe('offline verify <extracted folder>', () => {
  it('exit 0 with every file listed; exit 3 naming a damaged file', async () => {
    const { fixture, dir } = await extracted();
    const ok = await runCli(['verify', dir, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json).toMatchObject({ kind: 'folder' });
    expect((ok.json as { files: unknown[] }).files.length).toBe(fixture.manifest.files.length + 1);
    await appendFile(path.join(dir, 'stack/entry.sh'), '#');
    const bad = await runCli(['verify', dir, '--json']);
    expect(bad.code).toBe(3);
    expect(bad.json).toMatchObject({ ok: false, error: { code: 'EBADSIZE', file: 'stack/entry.sh' } });
  });
});
