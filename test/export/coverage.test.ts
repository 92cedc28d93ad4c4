import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BundleImage } from '../../src/bundle/manifest.js';
import type { ComposeProject, ComposeService } from '../../src/compose/model.js';
import { readCompose } from '../../src/compose/read-compose.js';
import { assertImagesCovered } from '../../src/export/coverage.js';
import { tempDir } from '../support/temp-dir.js';

const FILE = '/stack/docker-compose.yml';

function service(name: string, fields: Partial<ComposeService> = {}): ComposeService {
  return { name, profiles: [], healthcheck: false, ...fields };
}

/** A stack of every kind: a built service (default names), a pulled one, and one only in a profile. */
const compose: ComposeProject = {
  file: FILE,
  tool: 'test',
  allProfiles: ['extra'],
  profiles: ['extra'],
  services: [
    service('api', { build: { context: '/stack/api', dockerfile: 'Dockerfile', args: {} } }),
    service('db', { image: 'postgres:16' }),
    service('cache', { image: 'registry.local:5000/redis', profiles: ['extra'] }),
  ],
};

function image(...tags: string[]): BundleImage {
  return {
    id: `sha256:${tags[0]}`,
    tags,
    os: 'linux',
    architecture: 'amd64',
    size: 1,
    role: 'service',
    archive: 'images/images.tar',
  };
}

/** Every image `compose` and the extra `busybox` need, under the names compose looks for. */
const complete = [
  image('shop_api:latest', 'shop-api:latest'),
  image('postgres:16'),
  image('registry.local:5000/redis:latest'),
  image('busybox:latest'),
];

function without(tag: string): BundleImage[] {
  return complete.map((i) => ({ ...i, tags: i.tags.filter((t) => t !== tag) })).filter((i) => i.tags.length);
}

describe('assertImagesCovered: every image the compose file references is in the bundle', () => {
  it('passes a complete set: both default names of a built service, untagged refs as :latest, extras', () => {
    expect(() => assertImagesCovered(compose, 'shop', ['busybox'], complete)).not.toThrow();
  });

  it.each([
    ['a pulled service image', 'postgres:16', 'postgres:16 (service db)'],
    [
      'an image only a profile uses',
      'registry.local:5000/redis:latest',
      'registry.local:5000/redis:latest (service cache)',
    ],
    ['one default name of a built service', 'shop-api:latest', 'shop-api:latest (service api)'],
    ['an extra image', 'busybox:latest', 'busybox (extra image)'],
  ])('fails with EMISSING naming %s', (_what, tag, named) => {
    const check = () => assertImagesCovered(compose, 'shop', ['busybox'], without(tag));
    expect(check).toThrow(expect.objectContaining({ code: 'EMISSING', file: FILE, found: named }));
    expect(check).toThrow(`the bundle lacks 1 image(s): ${named}`);
  });

  it('names every missing image at once', () => {
    const check = () => assertImagesCovered(compose, 'shop', ['busybox'], [complete[0] as BundleImage]);
    expect(check).toThrow(
      expect.objectContaining({
        code: 'EMISSING',
        found:
          'postgres:16 (service db), registry.local:5000/redis:latest (service cache), busybox (extra image)',
      }),
    );
  });

  it('an image with the right name but another tag does not count', () => {
    const images = [...without('postgres:16'), image('postgres:15')];
    expect(() => assertImagesCovered(compose, 'shop', ['busybox'], images)).toThrow(
      expect.objectContaining({ code: 'EMISSING', found: 'postgres:16 (service db)' }),
    );
  });

  it('with a compose file read by the compose tool, a service of any profile must be in the bundle', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'docker-compose.yml');
    await writeFile(
      file,
      'services:\n  web:\n    image: web:1\n  debug:\n    image: debug-tools:2\n    profiles: [debug]\n',
    );
    const read = await readCompose({ file, project: 'shop' });
    expect(() => assertImagesCovered(read, 'shop', [], [image('web:1')])).toThrow(
      expect.objectContaining({ code: 'EMISSING', file, found: 'debug-tools:2 (service debug)' }),
    );
    expect(() =>
      assertImagesCovered(read, 'shop', [], [image('web:1'), image('debug-tools:2')]),
    ).not.toThrow();
  });
});
