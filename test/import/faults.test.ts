import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import {
  craftBundle,
  extractFixture,
  type Fixture,
  flipEntryByte,
  makeBundle,
  truncateBundle,
} from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { dockerfileContext, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

let engine: DockerEngine;
const images: string[] = [];
const fixtures: Fixture[] = [];
/** A good bundle of the three images: the source that puts them back after a test removed them. */
let source: Fixture;

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('faults');
  // Three images, each with a layer of its own (about 300 KiB, so a flipped byte lands inside a layer).
  for (const n of [1, 2, 3]) {
    const tag = `offline-test/${name}-${n}:1`;
    await engine.buildImage(
      dockerfileContext(
        `FROM ${docker.baseImage}\nRUN echo ${name} && head -c 300000 /dev/urandom > /data-${n}\n`,
      ),
      { tags: [tag] },
    );
    images.push(tag);
  }
  source = await bundle();
});

afterAll(async () => {
  await removeImages(engine, images);
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

async function bundle(options: Parameters<typeof makeBundle>[0] = {}): Promise<Fixture> {
  await restoreImages();
  const fixture = await makeBundle({
    name: uniqueName('faulty'),
    engine,
    images,
    files: {
      'stack/docker-compose.yml': 'services: {}\n',
      'stack/big.bin': Buffer.alloc(2 * 1024 * 1024, 1),
    },
    tiktoken: { cl100k_base: 'not really the encoding, but listed and hashed\n' },
    ...options,
  });
  fixtures.push(fixture);
  return fixture;
}

/** The bundle's images are not in the engine (a failed import removed what it loaded). */
async function expectNoneLoaded(): Promise<void> {
  for (const tag of images) expect(await engine.inspectImage(tag), tag).toBeUndefined();
}

async function removeAll(): Promise<void> {
  for (const tag of images) await engine.removeImage(tag, { force: true });
}

/** Puts the images back (importing the good source bundle) when a test left them removed. */
async function restoreImages(): Promise<void> {
  const present = await Promise.all(images.map((tag) => engine.inspectImage(tag)));
  if (present.every(Boolean)) return;
  const good = await runCli(['import', source.archive, '--target', await tempDir()]);
  expect(good.code, good.stderr).toBe(0);
}

/**
 * Where, inside the fixture's images/images.tar, the last layer of the `index`th image its manifest.json lists
 * has a byte of that image's own random file (150,000 bytes into the layer's content).
 */
async function ownLayerOffset(fixture: Fixture, index: number): Promise<number> {
  const { root, dir } = await extractFixture(fixture);
  try {
    const archive = path.join(dir, 'images/images.tar');
    const listed = JSON.parse(
      execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }),
    ) as {
      Layers: string[];
    }[];
    const layer = listed[index]?.Layers.at(-1) as string;
    const line = execFileSync('tar', ['-tvRf', archive], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.endsWith(` ${layer}`));
    const block = Number(/^block (\d+):/.exec(line ?? '')?.[1]);
    expect(Number.isInteger(block), `${layer} in images.tar`).toBe(true);
    return (block + 1) * 512 + 150_000;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe('import leaves the host as it was on every failure', () => {
  it.each([
    ['the images archive', 'images/images.tar'],
    ['a tiktoken file', 'tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4'],
    ['a stack file', 'stack/docker-compose.yml'],
    ['manifest.json', 'manifest.json'],
  ])(
    'one byte flipped in %s: exit 3, EINTEGRITY naming it with both sha256, nothing loaded, nothing written',
    async (_what, entry) => {
      const fixture = await bundle();
      const good = (await readdir(fixture.outDir)).sort();
      await flipEntryByte(fixture, entry);
      expect((await readdir(fixture.outDir)).sort()).toEqual(good);
      await removeAll();
      const target = await tempDir();
      const result = await runCli(['import', fixture.archive, '--target', target, '--json']);
      expect(result.code, result.stderr).toBe(3);
      const error = (
        result.json as { error: { code: string; file?: string; expected?: string; found?: string } }
      ).error;
      // manifest.json is checked against its line in checksums.sha256; every other file against the manifest.
      const listed =
        entry === 'manifest.json' ? undefined : fixture.manifest.files.find((f) => f.path === entry)?.sha256;
      expect(error).toMatchObject({
        code: 'EINTEGRITY',
        file: entry,
        expected: listed ?? expect.stringMatching(/^[0-9a-f]{64}$/),
        found: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(error.found).not.toBe(error.expected);
      expect(result.stderr).toContain(`expected ${error.expected}, found ${error.found}`);
      await expectNoneLoaded();
      expect(await readdir(target)).toEqual([]);
    },
  );

  it('one byte flipped in checksums.sha256: exit 3, an error naming it or manifest.json, nothing loaded or written', async () => {
    const fixture = await bundle();
    await flipEntryByte(fixture, 'checksums.sha256');
    await removeAll();
    const target = await tempDir();
    const result = await runCli(['import', fixture.archive, '--target', target, '--json']);
    expect(result.code, result.stderr).toBe(3);
    // The byte may fall in a sha256 (of manifest.json: the two lists disagree; of another file: it is named as
    // damaged in checksums.sha256) or in a path or separator (a malformed line).
    const error = (result.json as { error: { code: string; file?: string } }).error;
    expect(['EINTEGRITY', 'EMANIFEST']).toContain(error.code);
    expect(['checksums.sha256', 'manifest.json']).toContain(error.file);
    await expectNoneLoaded();
    expect(await readdir(target)).toEqual([]);
  });

  it('a truncated bundle: exit 3, nothing loaded, the target folders it made gone again', async () => {
    const fixture = await bundle();
    await truncateBundle(fixture, 400_000, 'update');
    await removeAll();
    const parent = await tempDir();
    const result = await runCli(['import', fixture.archive, '--target', path.join(parent, 'opt/stack')]);
    expect(result.code, result.stderr).toBe(3);
    await expectNoneLoaded();
    expect(await readdir(parent)).toEqual([]);
  });

  // The damage goes into the own layer of the third image images.tar's manifest.json lists. In the engine's
  // order the archive goes in one request, whose images the engine loads in that list's order; in load order
  // (what export writes) the base goes first, then a request per image, the third image's layer last.
  it.each([
    ['the engine order', false],
    ['load order', true],
  ])(
    'a corrupt third image (%s): the first two, loaded before it, are removed again',
    async (_order, loadOrder) => {
      const fixture = await bundle({ loadOrder });
      await flipEntryByte(fixture, 'images/images.tar', await ownLayerOffset(fixture, 2));
      await removeAll();
      const target = await tempDir();
      const result = await runCli(['import', fixture.archive, '--target', target, '--json']);
      expect(result.code, result.stderr).toBe(3);
      // The engine refused the third image first; the rest of the archive was hashed to name the damage.
      expect((result.json as { error: { code: string; file: string } }).error).toMatchObject({
        code: 'EINTEGRITY',
        file: 'images/images.tar',
        expected: fixture.manifest.files.find((f) => f.path === 'images/images.tar')?.sha256,
      });
      expect(result.stderr).toMatch(
        /images\/images\.tar: the load failed \(.*\); checking the rest of its sha256/,
      );
      expect(result.stderr).toMatch(/undone: removed 2 image\(s\) this run loaded/);
      await expectNoneLoaded();
      expect(await readdir(target)).toEqual([]);
    },
  );

  it('a missing part is named; a swapped part order is caught by the sidecar', async () => {
    const fixture = await bundle({ splitSize: 512 * 1024 });
    expect(fixture.parts.length).toBeGreaterThan(2);
    const [first, second] = fixture.parts as [string, string];
    await rename(second, `${second}.away`);
    const missing = await runCli(['import', fixture.outDir, '--target', await tempDir(), '--json']);
    expect(missing.code).toBe(3);
    expect((missing.json as { error: { code: string; file: string } }).error).toMatchObject({
      code: 'EMISSING',
      file: path.basename(second),
    });
    await rename(`${second}.away`, second);
    await rename(first, `${first}.tmp-swap`);
    await rename(second, first);
    await rename(`${first}.tmp-swap`, second);
    await removeAll();
    const swapped = await runCli(['import', fixture.outDir, '--target', await tempDir(), '--json']);
    expect(swapped.code).toBe(3);
    expect((swapped.json as { error: { code: string; file: string } }).error).toMatchObject({
      code: 'EINTEGRITY',
      file: path.basename(first),
    });
    await expectNoneLoaded();
  });

  it.each([
    ['../../x', { path: '../../offline-escape-x', content: 'x' }],
    ['an absolute path', { path: '/tmp/offline-escape-abs', content: 'x' }],
    [
      'a symlink out of the tree',
      { path: 'crafted-1.0.0/stack/link', type: 'SymbolicLink' as const, linkpath: '/etc/passwd' },
    ],
  ])('refuses %s (EUNSAFE_PATH) and writes nothing', async (_what, entry) => {
    const dir = await tempDir();
    const archive = await craftBundle(dir, { 'stack/docker-compose.yml': 'services: {}\n' }, [entry]);
    const target = path.join(await tempDir(), 'a', 'b');
    const result = await runCli(['import', archive, '--target', target, '--json']);
    expect(result.code).toBe(3);
    expect((result.json as { error: { code: string } }).error.code).toBe('EUNSAFE_PATH');
    expect(existsSync('/tmp/offline-escape-abs')).toBe(false);
    expect(existsSync(path.resolve(target, '../../offline-escape-x'))).toBe(false);
    expect(await readdir(target).catch(() => [])).toEqual([]);
  });

  it('a file cannot be placed (a plain file where the tiktoken folder goes): nothing placed or backed up, nothing loaded', async () => {
    const fixture = await bundle();
    await removeAll();
    const target = await tempDir();
    await writeFile(path.join(target, 'docker-compose.yml'), 'services: {earlier: {}}\n');
    await writeFile(path.join(target, 'tiktoken'), 'a file, not a folder\n');
    // --force: the compose file there (a user's, as no earlier import wrote it) is backed up, then replaced.
    const result = await runCli(['import', fixture.archive, '--target', target, '--force', '--json']);
    expect(result.code, result.stderr).toBe(1);
    expect((result.json as { error: { code: string; file: string } }).error).toMatchObject({
      code: 'EEXIST',
      file: expect.stringContaining(path.join(target, 'tiktoken/')),
    });
    await expectNoneLoaded();
    expect((await readdir(target)).sort()).toEqual(['docker-compose.yml', 'tiktoken']);
    expect(await readFile(path.join(target, 'docker-compose.yml'), 'utf8')).toBe('services: {earlier: {}}\n');
  });

  it('a target disk too small: ENOSPACE before any work', async () => {
    const fixture = await bundle();
    await removeAll();
    const mount = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
    try {
      const result = await runCli(['import', fixture.archive, '--target', mount, '--json']);
      expect(result.code).toBe(1);
      expect((result.json as { error: { code: string } }).error.code).toBe('ENOSPACE');
      expect(result.stderr).toContain(mount);
      await expectNoneLoaded();
      expect(await readdir(mount)).toEqual([]);
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it('imports with no network at all (a network namespace with only loopback)', async () => {
    const fixture = await bundle();
    await removeAll();
    const target = await tempDir();
    const tsx = path.resolve('node_modules/.bin/tsx');
    const out = execFileSync(
      'unshare',
      ['-n', tsx, path.resolve('src/cli/main.ts'), 'import', fixture.archive, '--target', target, '--json'],
      { encoding: 'utf8', env: { ...process.env, OFFLINE_SILENT: '1' } },
    );
    expect(JSON.parse(out).report.images.loaded).toHaveLength(3);
    for (const tag of images) expect(await engine.inspectImage(tag)).toBeDefined();
  });
});
