import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { canonicalSave } from '../../src/export/canonical-save.js';
import { loadArchive } from '../../src/import/image-loader.js';
import { planLoad, type SaveManifestEntry } from '../../src/import/load-plan.js';
import { dockerfileContext, removeImages, requireDocker, uniqueName } from '../support/docker.js';

let engine: DockerEngine;
let baseImage: string;
let dir: string;
const ARCHIVE = 'images/images.tar';

/** Images built for a test, saved in the engine's order and in load order. */
interface SavedStack {
  tags: string[];
  ids: string[];
  engineOrder: string;
  loadOrder: string;
}

/** Builds one image per Dockerfile (FROM the test base) and saves them all in both orders. */
async function savedStack(name: string, dockerfiles: string[]): Promise<SavedStack> {
  const stack: SavedStack = { tags: [], ids: [], engineOrder: '', loadOrder: '' };
  for (const [n, dockerfile] of dockerfiles.entries()) {
    const tag = `offline-test/${name}-${n}:1`;
    await engine.buildImage(dockerfileContext(`FROM ${baseImage}\n${dockerfile}`), { tags: [tag] });
    stack.tags.push(tag);
    stack.ids.push((await engine.inspectImage(tag))?.id as string);
  }
  stack.engineOrder = path.join(dir, `${name}-engine-order.tar`);
  await pipeline(await engine.saveImages(stack.tags), createWriteStream(stack.engineOrder));
  stack.loadOrder = path.join(dir, `${name}-load-order.tar`);
  await writeFile(stack.loadOrder, Readable.from(canonicalSave(stack.engineOrder, new Date(0))));
  return stack;
}

/** The part of a bundle manifest loadArchive reads: which images the archive holds. */
const manifest = (stack: SavedStack) =>
  ({ archives: [{ path: ARCHIVE, images: stack.ids }] }) as unknown as BundleManifest;

/** The engine, counting its load requests. */
function counting(): { engine: DockerEngine; requests: () => number } {
  let requests = 0;
  const counted = Object.create(engine) as DockerEngine;
  counted.loadImages = (archive, onEvent) => {
    requests++;
    return engine.loadImages(archive, onEvent);
  };
  return { engine: counted, requests: () => requests };
}

const listIds = async () => new Set((await engine.listImages()).map((i) => i.id));

/** The IDs of the made-up base images the plan for `archive` loads. */
function madeUpBaseIds(archive: string): string[] {
  const images = JSON.parse(
    execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }),
  ) as SaveManifestEntry[];
  const configs = new Map(images.map((m) => [m.Config, execFileSync('tar', ['-xOf', archive, m.Config])]));
  return planLoad(images, configs).baseImageIds.map((id) => `sha256:${id}`);
}

async function removeAll(stack: SavedStack): Promise<void> {
  await removeImages(engine, stack.ids);
  for (const id of stack.ids) expect(await engine.inspectImage(id)).toBeUndefined();
}

/** Loads the stack's load-order archive; returns how many requests it took. */
async function loadInOrder(stack: SavedStack): Promise<number> {
  await removeAll(stack);
  const counted = counting();
  const stream = createReadStream(stack.loadOrder);
  const outcome = await loadArchive(counted.engine, await listIds(), manifest(stack), ARCHIVE, stream, true);
  expect(outcome.loaded).toEqual(stack.ids);
  for (const tag of stack.tags) expect((await engine.inspectImage(tag))?.repoTags).toContain(tag);
  // Other test files share the engine and may add images meanwhile, so each base is looked for by its ID.
  for (const id of madeUpBaseIds(stack.loadOrder)) expect(await engine.inspectImage(id)).toBeUndefined();
  return counted.requests();
}

/**
 * Loads a copy of the stack's load-order archive with one byte flipped `at` bytes into its last layer (inside
 * the random file that layer adds): the load fails with EDOCKER and no made-up base is left behind.
 */
async function expectDamagedLoadToFail(stack: SavedStack, at: number): Promise<void> {
  const block = headerBlock(stack, (line) => line.endsWith('/layer.tar'));
  await expectLoadToFail(stack, [(block + 1) * 512 + at], { code: 'EDOCKER' });
}

/** The 512-byte block of the last tar header in the stack's load-order archive whose `tar -tvR` line matches. */
function headerBlock(stack: SavedStack, match: (line: string) => boolean): number {
  const listing = execFileSync('tar', ['-tvRf', stack.loadOrder], { encoding: 'utf8' }).trim().split('\n');
  return Number(/^block (\d+):/.exec(listing.filter(match).at(-1) as string)?.[1]);
}

/**
 * Loads a copy of the load-order archive with the bytes at `offsets` flipped: it fails so, leaving no made-up
 * base (the images it loaded are the caller's to remove: run-import's undo).
 */
async function expectLoadToFail(stack: SavedStack, offsets: number[], error: object): Promise<void> {
  await removeAll(stack);
  const damaged = path.join(dir, 'damaged.tar');
  const bytes = await readFile(stack.loadOrder);
  for (const offset of offsets) bytes[offset] = (bytes[offset] as number) ^ 0x01;
  await writeFile(damaged, bytes);
  await expect(
    loadArchive(engine, await listIds(), manifest(stack), ARCHIVE, createReadStream(damaged), true),
  ).rejects.toMatchObject(error);
  for (const id of madeUpBaseIds(stack.loadOrder)) expect(await engine.inspectImage(id)).toBeUndefined();
}

const stacks: SavedStack[] = [];
let family: SavedStack;
let families: SavedStack;

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  baseImage = docker.baseImage;
  dir = await mkdtemp(path.join(tmpdir(), 'offline-test-pipelined-'));
  const name = uniqueName('pipelined');
  // A made-up base's ID comes from its layers alone: two stacks that part ways right after the test base make
  // the same one, and another test file's import may hold it meanwhile. So each stack here starts with a layer
  // of its own, which all its images share (the builder's cache reuses the first RUN).
  const own = (stack: string) => `RUN echo ${stack} > /stack\n`;
  // Two images on the same base, each with a layer of its own: a shared base, then one request per image.
  family = await savedStack(
    name,
    [1, 2].map((n) => `${own(name)}RUN head -c 200000 /dev/urandom > /data-${n}\n`),
  );
  // Two families on that base: each pair shares a layer too.
  const shared = (f: string) => `RUN echo ${name}-${f} && head -c 100000 /dev/urandom > /family\n`;
  families = await savedStack(
    `${name}-families`,
    ['a', 'a', 'b', 'b'].map(
      (f, n) => `${own(`${name}-families`)}${shared(f)}RUN head -c 100000 /dev/urandom > /own-${n}\n`,
    ),
  );
  stacks.push(family, families);
}, 180_000);

afterAll(async () => {
  for (const stack of stacks) await removeImages(engine, stack.tags);
  await rm(dir, { recursive: true, force: true });
});

describe('loadArchive in several requests', () => {
  it('loads an archive in load order, tags its images and leaves no made-up base image', async () => {
    // The made-up shared base, then one request per image.
    expect(madeUpBaseIds(family.loadOrder)).toHaveLength(1);
    expect(await loadInOrder(family)).toBe(3);
  });

  it('loads two families in one archive with a base for each, stacked on the base they share', async () => {
    // The premise: the builder's cache gave each pair the same second layer.
    const saved = JSON.parse(
      execFileSync('tar', ['-xOf', families.loadOrder, 'manifest.json'], { encoding: 'utf8' }),
    ) as SaveManifestEntry[];
    const second = new Map(saved.map((m) => [m.RepoTags?.[0], m.Layers.at(-2)]));
    const [a0, a1, b0, b1] = families.tags.map((t) => second.get(t));
    expect([a0 === a1, b0 === b1, a0 === b0]).toEqual([true, true, false]);
    // The base both families share, each family's base, then one request per image.
    expect(madeUpBaseIds(families.loadOrder)).toHaveLength(3);
    expect(await loadInOrder(families)).toBe(7);
  });

  it("loads the engine's own order (a bundle from before load order) in one request", async () => {
    const { engineOrder, ids } = family;
    await removeAll(family);
    const head = await open(engineOrder, 'r');
    const first = Buffer.alloc(100);
    await head.read(first, 0, 100, 0);
    await head.close();
    expect(first.toString('latin1')).not.toMatch(/^manifest\.json\0/);
    const before = await listIds();
    const counted = counting();
    await loadArchive(counted.engine, before, manifest(family), ARCHIVE, createReadStream(engineOrder), true);
    expect(counted.requests()).toBe(1);
    for (const id of ids) expect(await engine.inspectImage(id)).toBeDefined();
  });

  it('fails on a damaged layer of the second image, with every request ended and the made-up base removed', async () => {
    await expectDamagedLoadToFail(family, 150_000);
  });

  it('fails on a damaged image config (the engine would load it under another ID) before any request', async () => {
    const config = headerBlock(family, (line) => / [0-9a-f]{64}\.json$/.test(line));
    const counted = counting();
    await removeAll(family);
    const bytes = await readFile(family.loadOrder);
    const at = bytes.indexOf('"architecture"', (config + 1) * 512) + 3;
    bytes[at] = (bytes[at] as number) ^ 0x01;
    const damaged = path.join(dir, 'damaged-config.tar');
    await writeFile(damaged, bytes);
    await expect(
      loadArchive(
        counted.engine,
        await listIds(),
        manifest(family),
        ARCHIVE,
        createReadStream(damaged),
        true,
      ),
    ).rejects.toMatchObject({ code: 'EINTEGRITY', file: ARCHIVE });
    expect(counted.requests()).toBe(0);
  });

  it('fails on damaged tar headers (the parser errs on each block after them) without crashing', async () => {
    // The checksum fields of the last layer.tar's header and of the first header inside it: the parser meets
    // one bad header, then the layer's own bytes, bad headers to it, block after block.
    const block = headerBlock(families, (line) => line.endsWith('/layer.tar'));
    await expectLoadToFail(families, [block * 512 + 148, (block + 1) * 512 + 148], {
      message: expect.stringMatching(/TAR_ENTRY_INVALID|checksum/),
    });
  });

  it('fails on a damaged layer of the second family, with all three made-up bases removed', async () => {
    expect(madeUpBaseIds(families.loadOrder)).toHaveLength(3);
    await expectDamagedLoadToFail(families, 50_000);
  });
});
