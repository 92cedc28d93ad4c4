import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { RegistryClient } from '../../src/registry/client.js';
import { registryOverride, serviceReferences } from '../../src/registry/compose-override.js';
import { readCredentials } from '../../src/registry/credentials.js';
import type { ArchiveImage } from '../../src/registry/image-archive.js';
import { pushImages } from '../../src/registry/pusher.js';
import { mapTag, normalizeReference, parseTarget } from '../../src/registry/target.js';
import { UploadState } from '../../src/registry/upload-state.js';

/** The parts of a manifest the override reads: services and the images' tags. */
function manifestOf(services: Record<string, string>, images: Record<string, string[]>): BundleManifest {
  return {
    name: 'm',
    version: '1',
    compose: { file: 'stack/docker-compose.yml', profiles: [] },
    services: Object.entries(services).map(([name, image]) => ({
      name,
      image,
      built: false,
      healthcheck: false,
      profiles: [],
    })),
    images: Object.entries(images).map(([id, tags]) => ({ id, tags })),
  } as unknown as BundleManifest;
}

describe('registry target and tag mapping', () => {
  it('parses HOST[:PORT][/PREFIX] and refuses schemes and bad names', () => {
    expect(parseTarget('registry.local:5000/team/demo', false)).toEqual({
      host: 'registry.local:5000',
      prefix: 'team/demo',
      scheme: 'https',
    });
    expect(parseTarget('127.0.0.1:5000/', true)).toEqual({
      host: '127.0.0.1:5000',
      prefix: '',
      scheme: 'http',
    });
    expect(() => parseTarget('http://registry.local', true)).toThrow(
      expect.objectContaining({ code: 'EUSAGE' }),
    );
    expect(() => parseTarget('registry.local/Upper', false)).toThrow(
      expect.objectContaining({ code: 'EUSAGE' }),
    );
    expect(() => parseTarget('bad host:5000', false)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
    for (const port of ['0', '99999', '65536']) {
      expect(() => parseTarget(`127.0.0.1:${port}/x`, true)).toThrow(
        expect.objectContaining({ code: 'EUSAGE', message: expect.stringContaining(`port ${port}`) }),
      );
    }
    expect(parseTarget('127.0.0.1:65535', true).host).toBe('127.0.0.1:65535');
  });

  it('normalises image names as Docker does', () => {
    for (const name of ['x:1', 'library/x:1', 'docker.io/library/x:1', 'index.docker.io/library/x:1']) {
      expect(normalizeReference(name)).toBe('docker.io/library/x:1');
    }
    expect(normalizeReference('team/w')).toBe('docker.io/team/w:latest');
    expect(normalizeReference('docker.io/team/w:2')).toBe('docker.io/team/w:2');
    expect(normalizeReference('registry.example.com/team/w:2')).toBe('registry.example.com/team/w:2');
    expect(normalizeReference('localhost:5000/x')).toBe('localhost:5000/x:latest');
  });

  it('points every service at its image in the registry, however the compose file spells the name', async () => {
    const target = parseTarget('reg:5000/p', true);
    // The manifest keeps the compose file's names; push reads the archive's RepoTags, which Docker shortens.
    const manifest = manifestOf(
      { lib: 'docker.io/library/lib:1', hub: 'docker.io/user/hub:1', base: 'base:1', short: 'library/lib:1' },
      { a: ['docker.io/library/lib:1', 'docker.io/user/hub:1', 'base:1'] },
    );
    expect(Object.fromEntries(serviceReferences(manifest, target))).toEqual({
      lib: 'reg:5000/p/lib:1',
      hub: 'reg:5000/p/user/hub:1',
      base: 'reg:5000/p/base:1',
      short: 'reg:5000/p/lib:1',
    });
    for (const repoTag of ['lib:1', 'user/hub:1', 'base:1']) {
      expect(['reg:5000/p/lib:1', 'reg:5000/p/user/hub:1', 'reg:5000/p/base:1']).toContain(
        mapTag(repoTag, target).reference,
      );
    }
    const text = await registryOverride(manifest, 'version: "3.8"\n', target, 'reg:5000/p');
    expect(text).toContain('  lib:\n    image: reg:5000/p/lib:1\n');
    expect(text).toContain('  hub:\n    image: reg:5000/p/user/hub:1\n');

    const missing = manifestOf({ app: 'docker.io/library/app:2' }, { a: ['app:1'] });
    expect(() => serviceReferences(missing, target)).toThrow(
      expect.objectContaining({ code: 'EFORMAT', file: 'docker.io/library/app:2' }),
    );
  });

  it('refuses two images whose names differ only by source registry, naming both, before anything is sent', async () => {
    const target = parseTarget('127.0.0.1:1/p', true);
    const collision = manifestOf(
      { old: 'team/w:2', new: 'registry.example.com/team/w:2' },
      { a: ['team/w:2'], b: ['registry.example.com/team/w:2'] },
    );
    expect(() => serviceReferences(collision, target)).toThrow(
      expect.objectContaining({
        code: 'EFORMAT',
        message: expect.stringMatching(
          /team\/w:2 and registry\.example\.com\/team\/w:2 .* 127\.0\.0\.1:1\/p\/team\/w:2/,
        ),
      }),
    );
    const blob = { file: '/nonexistent', sha256: 'c'.repeat(64), size: 1, compression: 'none' as const };
    const image = (id: string, tags: string[]): ArchiveImage => ({
      id,
      config: { ...blob, sha256: id },
      layers: [blob],
      tags,
    });
    // Nothing listens on port 1: a request would fail EREGISTRY, the check comes first.
    const client = new RegistryClient(target);
    try {
      const push = (images: ArchiveImage[]) =>
        pushImages(client, images, target, {
          chunkSize: 1 << 20,
          concurrency: 1,
          state: new UploadState('/nonexistent'),
        });
      await expect(
        push([image('a'.repeat(64), ['team/w:2']), image('b'.repeat(64), ['registry.example.com/team/w:2'])]),
      ).rejects.toMatchObject({
        code: 'EFORMAT',
        message: expect.stringMatching(/^team\/w:2 and registry\.example\.com\/team\/w:2 /),
      });
      // One image under two names that map to one: pushed once, not refused (here: it reaches the network).
      await expect(
        push([image('a'.repeat(64), ['team/w:2', 'registry.example.com/team/w:2'])]),
      ).rejects.toMatchObject({ code: 'EREGISTRY' });
    } finally {
      client.close();
    }
  });

  it('maps tags under the prefix, dropping a source registry host and Docker Hub library/', () => {
    const target = parseTarget('reg:5000/site', true);
    expect(mapTag('demo-api:1.0.0', target)).toMatchObject({
      repository: 'site/demo-api',
      tag: '1.0.0',
      reference: 'reg:5000/site/demo-api:1.0.0',
    });
    expect(mapTag('docker.io/library/nginx:1.25', target).reference).toBe('reg:5000/site/nginx:1.25');
    expect(mapTag('old.example.com:5000/team/app:2', target).reference).toBe('reg:5000/site/team/app:2');
    expect(mapTag('localhost/app', target).reference).toBe('reg:5000/site/app:latest');
    expect(mapTag('offline-base/busybox:3d9f', parseTarget('reg', false)).reference).toBe(
      'reg/offline-base/busybox:3d9f',
    );
  });

  it('reads credentials from --password-stdin or the environment, never half of them', async () => {
    const stdin = Readable.from([Buffer.from('s3cret\n')]);
    expect(await readCredentials({ username: 'alice', passwordStdin: true }, stdin, {})).toEqual({
      username: 'alice',
      password: 's3cret',
    });
    const env = { OFFLINE_REGISTRY_USER: 'bob', OFFLINE_REGISTRY_PASSWORD: 'pw' };
    expect(await readCredentials({}, Readable.from([]), env)).toEqual({ username: 'bob', password: 'pw' });
    expect(await readCredentials({}, Readable.from([]), {})).toBeUndefined();
    await expect(readCredentials({ passwordStdin: true }, Readable.from([]), {})).rejects.toMatchObject({
      code: 'EUSAGE',
    });
    await expect(readCredentials({ username: 'alice' }, Readable.from([]), {})).rejects.toMatchObject({
      code: 'EUSAGE',
    });
    await expect(
      readCredentials({ username: 'alice', passwordStdin: true }, Readable.from([]), {}),
    ).rejects.toMatchObject({ code: 'EUSAGE' });
  });
});
