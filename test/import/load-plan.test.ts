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
    const [baseImageId] = plan.baseImageIds;
    const expectedConfig = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: ['sha256:1', 'sha256:2'] },
    });
    expect(plan.baseImageIds).toHaveLength(1);
    expect(baseImageId).toBe(createHash('sha256').update(expectedConfig).digest('hex'));
    expect(base?.config.bytes?.toString()).toBe(expectedConfig);
    expect(base).toMatchObject({
      config: { path: `${baseImageId}.json` },
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
    expect(plan.baseImageIds).toEqual([]);
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

  it('makes a base for every chain where images part, each stacked on the one below it', () => {
    const images = [
      image('a', ['base', 'mid', 'a']),
      image('b', ['base', 'mid', 'b']),
      image('c', ['base', 'c']),
    ];
    const plan = planLoad(images, new Map([['a.json', config(['sha256:1', 'sha256:2', 'sha256:3'])]]));
    const [outer, inner] = plan.baseImageIds;
    expect(plan.baseImageIds).toHaveLength(2);
    expect(plan.requests.map((r) => [r.config.path, r.layers, r.after])).toEqual([
      [`${outer}.json`, ['base/layer.tar'], []],
      [`${inner}.json`, ['mid/layer.tar'], [0]],
      ['a.json', ['a/layer.tar'], [0, 1]],
      ['b.json', ['b/layer.tar'], [0, 1]],
      ['c.json', ['c/layer.tar'], [0]],
    ]);
    // The inner base stacks both layers, so the engine finds the outer one registered.
    expect(plan.requests[1]?.entry.Layers).toEqual(['base/layer.tar', 'mid/layer.tar']);
  });

  it('gives each family of a stack its own base, and loads an image of no family on its own', () => {
    const images = [
      image('db', ['debian', 'mysql']),
      image('app1', ['py1', 'py2', 'app1']),
      image('app2', ['py1', 'py2', 'app2']),
      image('cache', ['alpine', 'redis']),
      image('web', ['debian', 'nginx']),
    ];
    const configs = new Map([
      ['db.json', config(['sha256:d', 'sha256:m'])],
      ['app1.json', config(['sha256:p1', 'sha256:p2', 'sha256:a1'])],
    ]);
    const plan = planLoad(images, configs);
    const [debian, python] = plan.baseImageIds;
    expect(plan.requests.map((r) => [r.config.path, r.layers, r.after])).toEqual([
      [`${debian}.json`, ['debian/layer.tar'], []],
      [`${python}.json`, ['py1/layer.tar', 'py2/layer.tar'], []],
      ['db.json', ['mysql/layer.tar'], [0]],
      ['app1.json', ['app1/layer.tar'], [1]],
      ['app2.json', ['app2/layer.tar'], [1]],
      ['cache.json', ['alpine/layer.tar', 'redis/layer.tar'], []],
      ['web.json', ['nginx/layer.tar'], [0]],
    ]);
    const diffIds = (i: number) =>
      JSON.parse(plan.requests[i]?.config.bytes?.toString() ?? '{}').rootfs.diff_ids;
    expect([diffIds(0), diffIds(1)]).toEqual([['sha256:d'], ['sha256:p1', 'sha256:p2']]);
  });

  it('makes no base where images share layers but never part (same layers, two configs)', () => {
    const plan = planLoad([image('a', ['x', 'y']), image('b', ['x', 'y'])], new Map());
    expect(plan.baseImageIds).toEqual([]);
    expect(plan.requests.map((r) => [r.layers, r.after])).toEqual([
      [['x/layer.tar', 'y/layer.tar'], []],
      [[], [0]],
    ]);
  });

  it('refuses a config with fewer diff_ids than the shared layers (EFORMAT)', () => {
    const images = [image('a', ['base', 'a']), image('b', ['base', 'b'])];
    expect(() => planLoad(images, new Map([['a.json', config([])]]))).toThrow(
      expect.objectContaining({ code: 'EFORMAT' }),
    );
  });
});
