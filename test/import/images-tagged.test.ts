import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine, ImageInfo } from '../../src/docker/engine.js';
import { ensureImagesTagged } from '../../src/import/image-loader.js';
import type { ImageSnapshot } from '../../src/import/image-snapshot.js';

const ARCHIVE = 'images/images.tar';

/** The two parts of a manifest ensureImagesTagged reads: its images and which archive holds each. */
const manifest = (images: Record<string, string[]>) =>
  ({
    images: Object.entries(images).map(([id, tags]) => ({ id, tags, archive: ARCHIVE })),
  }) as unknown as BundleManifest;

/** An engine holding `images` (ID -> tags) that records every call made to it. */
function recordingEngine(images: Record<string, string[]>) {
  const calls: string[] = [];
  const info = (id: string): ImageInfo => ({
    id,
    repoTags: images[id] ?? [],
    os: 'linux',
    architecture: 'amd64',
    size: 1,
    labels: {},
  });
  const engine = {
    async listImages() {
      calls.push('list');
      return Object.keys(images).map(info);
    },
    async inspectImage(ref: string) {
      calls.push(`inspect ${ref}`);
      return ref in images ? info(ref) : undefined;
    },
    async tagImage(ref: string, repo: string, tag: string) {
      calls.push(`tag ${ref} ${repo}:${tag}`);
    },
  } as unknown as DockerEngine;
  return { engine, calls };
}

const snapshot = (images: Record<string, string[]>): ImageSnapshot => ({
  ids: new Set(Object.keys(images)),
  tags: new Map(
    Object.entries(images).flatMap(([id, tags]) => tags.map((tag) => [tag, id] as [string, string])),
  ),
});

describe('ensureImagesTagged', () => {
  it('lists the engine once after a load, and sets each tag that is missing or points elsewhere', async () => {
    const { engine, calls } = recordingEngine({
      'sha256:a': ['app:1'],
      'sha256:b': [],
      'sha256:c': ['db:1'],
    });
    const m = manifest({ 'sha256:a': ['app:1', 'app:latest'], 'sha256:b': ['db:1'] });
    await ensureImagesTagged(engine, m, new Set([ARCHIVE]));
    expect(calls).toEqual(['list', 'tag sha256:a app:latest', 'tag sha256:b db:1']);
  });

  it('with the list the run took at its start (it loaded nothing), asks the engine for no other list', async () => {
    const { engine, calls } = recordingEngine({});
    const found = snapshot({ 'sha256:a': ['app:1'], 'sha256:b': [], 'sha256:c': ['db:1'] });
    const m = manifest({ 'sha256:a': ['app:1', 'app:latest'], 'sha256:b': ['db:1'] });
    await ensureImagesTagged(engine, m, new Set([ARCHIVE]), found);
    expect(calls).toEqual(['tag sha256:a app:latest', 'tag sha256:b db:1']);
  });

  it('an image missing from the list is inspected, then named with expected and found', async () => {
    const { engine, calls } = recordingEngine({ 'sha256:a': ['app:1'] });
    const m = manifest({ 'sha256:a': ['app:1'], 'sha256:z': ['gone:1'] });
    await expect(ensureImagesTagged(engine, m, new Set([ARCHIVE]), snapshot({}))).rejects.toMatchObject({
      code: 'EDOCKER',
      file: 'gone:1',
      expected: 'sha256:z',
      found: 'nothing',
    });
    expect(calls).toEqual(['inspect sha256:a', 'inspect sha256:z']);
  });
});
