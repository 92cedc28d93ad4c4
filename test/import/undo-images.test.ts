import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGES_ARCHIVE } from '../../src/bundle/layout.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { extractFixture, type Fixture, flipEntryByte, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { dockerfileContext, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

let engine: DockerEngine;
const images: string[] = [];
/** A tag of the user's own on the image that is in the engine before the import. */
let userTag: string;
const fixtures: Fixture[] = [];

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('undo');
  userTag = `offline-test/${name}-mine:keep`;
  // Three images, each with a layer of its own (a flipped byte 150,000 bytes in lands in it). The unique
  // name in the step keeps the builder's cache from handing out another test file's image (same ID).
  for (const n of [1, 2, 3]) {
    const tag = `offline-test/${name}-${n}:1`;
    await engine.buildImage(
      dockerfileContext(`FROM ${docker.baseImage}\nRUN head -c 300000 /dev/urandom > /data-${name}-${n}\n`),
      { tags: [tag] },
    );
    images.push(tag);
  }
  // Made while every image is in the engine: each test removes some of them.
  for (let i = 0; i < 2; i++) {
    fixtures.push(
      await makeBundle({
        name: uniqueName('undo'),
        engine,
        images,
        files: { 'stack/docker-compose.yml': 'services: {}\n' },
      }),
    );
  }
});

afterAll(async () => {
  await removeImages(engine, [...images, userTag]);
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

/** One entry of images/images.tar: where its content starts in the archive, and its bytes. */
interface SavedEntry {
  offset: number;
  bytes: Buffer;
}

/**
 * The images of the fixture's images/images.tar in the order its manifest.json lists them (the order the
 * engine loads them in one request), each with its config and its last (own) layer.
 */
async function savedImages(
  fixture: Fixture,
): Promise<{ tag: string; config: SavedEntry; layer: SavedEntry }[]> {
  const { root, dir } = await extractFixture(fixture);
  try {
    const archive = path.join(dir, IMAGES_ARCHIVE);
    const listed = JSON.parse(
      execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }),
    ) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    const blocks = execFileSync('tar', ['-tvRf', archive], { encoding: 'utf8' }).split('\n');
    const entry = (name: string): SavedEntry => {
      const line = blocks.find((l) => l.endsWith(` ${name}`));
      const block = Number(/^block (\d+):/.exec(line ?? '')?.[1]);
      expect(Number.isInteger(block), `${name} in images.tar`).toBe(true);
      return { offset: (block + 1) * 512, bytes: execFileSync('tar', ['-xOf', archive, name]) };
    };
    return listed.map((image) => ({
      tag: image.RepoTags[0] as string,
      config: entry(image.Config),
      layer: entry(image.Layers.at(-1) as string),
    }));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function tagsOf(ref: string): Promise<{ id: string; tags: string[] } | undefined> {
  const info = await engine.inspectImage(ref);
  return info && { id: info.id, tags: [...info.repoTags].sort() };
}

describe('a failed import undoes only what it did to the engine', () => {
  it('an image of the bundle that was there before (with a tag of the user) keeps its ID and tags', async () => {
    const fixture = fixtures[0] as Fixture;
    const [first, second, third] = await savedImages(fixture);
    if (!first || !second || !third) throw new Error('three images expected in images.tar');
    // The third image's own layer is damaged: the engine loads the first two, then refuses it.
    await flipEntryByte(fixture, IMAGES_ARCHIVE, third.layer.offset + 150_000);
    const firstTag = first.tag;
    const id = (await engine.inspectImage(firstTag))?.id as string;
    await engine.tagImage(id, userTag.split(':')[0] as string, 'keep');
    for (const image of [second, third]) await engine.removeImage(image.tag, { force: true });
    const kept = await tagsOf(firstTag);
    expect(kept).toEqual({ id, tags: [firstTag, userTag].sort() });

    const result = await runCli(['import', fixture.archive, '--target', await tempDir(), '--json']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/undone: removed 1 image\(s\) this run loaded/);
    expect(await tagsOf(firstTag)).toEqual(kept);
    for (const image of [second, third]) expect(await engine.inspectImage(image.tag)).toBeUndefined();
    const secondId = fixture.manifest.images.find((i) => i.tags.includes(second.tag))?.id as string;
    expect(await engine.inspectImage(secondId)).toBeUndefined();
  });

  it('a damaged image config loads under another ID with the bundle tag: that image is removed again', async () => {
    const fixture = fixtures[1] as Fixture;
    const saved = await savedImages(fixture);
    const last = saved.at(-1) as (typeof saved)[number];
    // A byte inside a free-text string of the config (the build step's command): still valid JSON for the
    // engine, which takes the image ID from the bytes it got, so the image loads under an ID the manifest lacks.
    const at = last.config.bytes.indexOf('head -c 300000');
    expect(at).toBeGreaterThan(0);
    await flipEntryByte(fixture, IMAGES_ARCHIVE, last.config.offset + at + 5);
    for (const image of fixture.manifest.images) await engine.removeImage(image.id, { force: true });

    const result = await runCli(['import', fixture.archive, '--target', await tempDir(), '--json']);
    expect(result.code, result.stderr).toBe(3);
    expect((result.json as { error: { code: string; file: string } }).error).toMatchObject({
      code: 'EINTEGRITY',
      file: IMAGES_ARCHIVE,
    });
    expect(result.stderr).toMatch(/undone: removed 3 image\(s\) this run loaded/);
    for (const tag of images) expect(await engine.inspectImage(tag), tag).toBeUndefined();
  });
});
