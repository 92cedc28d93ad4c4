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
const tags: string[] = [];
const ids: string[] = [];
let engineOrder: string;
let loadOrder: string;
let dir: string;
const ARCHIVE = 'images/images.tar';

/** The part of a bundle manifest loadArchive reads: which images the archive holds. */
const manifest = () => ({ archives: [{ path: ARCHIVE, images: ids }] }) as unknown as BundleManifest;

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

/** The ID of the made-up shared base image the plan for `archive` loads first. */
function madeUpBaseId(archive: string): string {
  const images = JSON.parse(
    execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }),
  ) as SaveManifestEntry[];
  const configs = new Map(images.map((m) => [m.Config, execFileSync('tar', ['-xOf', archive, m.Config])]));
  const baseId = planLoad(images, configs).baseImageId;
  expect(baseId).toBeDefined();
  return `sha256:${baseId}`;
}

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('pipelined');
  // Two images on the same base, each with a layer of its own: a shared base, then one request per image.
  for (const n of [1, 2]) {
    const tag = `offline-test/${name}-${n}:1`;
    await engine.buildImage(
      dockerfileContext(`FROM ${docker.baseImage}\nRUN head -c 200000 /dev/urandom > /data-${n}\n`),
      { tags: [tag] },
    );
    tags.push(tag);
    ids.push((await engine.inspectImage(tag))?.id as string);
  }
  dir = await mkdtemp(path.join(tmpdir(), 'offline-test-pipelined-'));
  engineOrder = path.join(dir, 'engine-order.tar');
  await pipeline(await engine.saveImages(tags), createWriteStream(engineOrder));
  loadOrder = path.join(dir, 'load-order.tar');
  await writeFile(loadOrder, Readable.from(canonicalSave(engineOrder, new Date(0))));
}, 120_000);

afterAll(async () => {
  await removeImages(engine, tags);
  await rm(dir, { recursive: true, force: true });
});

async function removeBoth(): Promise<void> {
  await removeImages(engine, ids);
  for (const id of ids) expect(await engine.inspectImage(id)).toBeUndefined();
}

describe('loadArchive in several requests', () => {
  it('loads an archive in load order, tags its images and leaves no made-up base image', async () => {
    await removeBoth();
    const before = await listIds();
    const counted = counting();
    const stream = createReadStream(loadOrder);
    const outcome = await loadArchive(counted.engine, before, manifest(), ARCHIVE, stream, true);
    expect(outcome.loaded).toEqual(ids);
    // The made-up shared base, then one request per image.
    expect(counted.requests()).toBe(3);
    // Other test files share the engine and may add images meanwhile, so look for the base by its ID.
    expect(await engine.inspectImage(madeUpBaseId(loadOrder))).toBeUndefined();
    for (const tag of tags) expect((await engine.inspectImage(tag))?.repoTags).toContain(tag);
  });

  it("loads the engine's own order (a bundle from before load order) in one request", async () => {
    await removeBoth();
    const head = await open(engineOrder, 'r');
    const first = Buffer.alloc(100);
    await head.read(first, 0, 100, 0);
    await head.close();
    expect(first.toString('latin1')).not.toMatch(/^manifest\.json\0/);
    const before = await listIds();
    const counted = counting();
    await loadArchive(counted.engine, before, manifest(), ARCHIVE, createReadStream(engineOrder), true);
    expect(counted.requests()).toBe(1);
    for (const id of ids) expect(await engine.inspectImage(id)).toBeDefined();
  });

  it('fails on a damaged layer of the second image, with every request ended and the made-up base removed', async () => {
    await removeBoth();
    const listing = execFileSync('tar', ['-tvRf', loadOrder], { encoding: 'utf8' }).trim().split('\n');
    const lastLayer = listing.filter((line) => line.endsWith('/layer.tar')).at(-1) as string;
    const block = Number(/^block (\d+):/.exec(lastLayer)?.[1]);
    const damaged = path.join(dir, 'damaged.tar');
    const bytes = await readFile(loadOrder);
    // Inside the layer's own tar, past its first headers: a byte of the random file.
    const at = (block + 1) * 512 + 150_000;
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(damaged, bytes);
    const baseId = madeUpBaseId(loadOrder);
    const before = await listIds();
    await expect(
      loadArchive(engine, before, manifest(), ARCHIVE, createReadStream(damaged), true),
    ).rejects.toMatchObject({ code: 'EDOCKER' });
    expect(await engine.inspectImage(baseId)).toBeUndefined();
  });
});
