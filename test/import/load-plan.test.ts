import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planLoad, type SaveManifestEntry } from '../../src/import/load-plan.js';

const image = (name: string, layers: string[]): SaveManifestEntry => ({
  Config: `${name}.json`,
  RepoTags: [`${name}:1`],
  Layers: layers.map((l) => `${l}/layer.tar`),
});
const config = (diffIds: string[]) =>
  Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }),
  );

describe('planLoad', () => {
  it('loads the shared base as a made-up image first, then each image in a request closed after it', () => {
    const images = [
      image('a', ['base', 'os', 'a']),
      image('b', ['base', 'os', 'b']),
      image('c', ['base', 'os', 'c']),
    ];
    const configs = new Map([['a.json', config(['sha256:1', 'sha256:2', 'sha256:3'])]]);
    const plan = planLoad(images, configs);
    const [base, ...rest] = plan.requests;
    const expectedConfig = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: ['sha256:1', 'sha256:2'] },
    });
    expect(plan.baseImageId).toBe(createHash('sha256').update(expectedConfig).digest('hex'));
    expect(base?.config.bytes?.toString()).toBe(expectedConfig);
    expect(base).toMatchObject({
      config: { path: `${plan.baseImageId}.json` },
      layers: ['base/layer.tar', 'os/layer.tar'],
      entry: { RepoTags: null, Layers: ['base/layer.tar', 'os/layer.tar'] },
      after: [],
    });
    expect(rest.map((r) => [r.config.path, r.layers, r.after, r.entry])).toEqual(
      images.map((i) => [i.Config, [i.Layers[2]], [0], i]),
    );
  });

  it('uses an image that is the shared base itself as the first request, with no made-up image', () => {
    const images = [image('app', ['base', 'app']), image('base', ['base'])];
    const plan = planLoad(images, new Map());
    expect(plan.baseImageId).toBeUndefined();
    expect(plan.requests.map((r) => [r.config.path, r.layers, r.after])).toEqual([
      ['base.json', ['base/layer.tar'], []],
      ['app.json', ['app/layer.tar'], [0]],
    ]);
  });

  it('loads images that share nothing side by side, and one image in one request', () => {
    const apart = planLoad([image('a', ['x']), image('b', ['y'])], new Map());
    expect(apart.requests.map((r) => r.after)).toEqual([[], []]);
    const one = planLoad([image('a', ['x', 'y'])], new Map());
    expect(one.requests).toHaveLength(1);
    expect(one.requests[0]?.layers).toEqual(['x/layer.tar', 'y/layer.tar']);
  });

  it('sends a layer two images share beyond the base once, and closes the second after the first', () => {
    const images = [
      image('a', ['base', 'mid', 'a']),
      image('b', ['base', 'mid', 'b']),
      image('c', ['base', 'c']),
    ];
    const plan = planLoad(images, new Map([['a.json', config(['sha256:1', 'sha256:2', 'sha256:3'])]]));
    expect(plan.requests.map((r) => [r.config.path.slice(-6), r.layers, r.after])).toEqual([
      [`${plan.baseImageId?.slice(-1)}.json`, ['base/layer.tar'], []],
      ['a.json', ['mid/layer.tar', 'a/layer.tar'], [0]],
      ['b.json', ['b/layer.tar'], [0, 1]],
      ['c.json', ['c/layer.tar'], [0]],
    ]);
  });

  it('refuses a config with fewer diff_ids than the shared layers (EFORMAT)', () => {
    const images = [image('a', ['base', 'a']), image('b', ['base', 'b'])];
    expect(() => planLoad(images, new Map([['a.json', config([])]]))).toThrow(
      expect.objectContaining({ code: 'EFORMAT' }),
    );
  });
});
