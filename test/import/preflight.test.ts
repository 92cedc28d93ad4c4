import { describe, expect, it } from 'vitest';
import type { BundleImage, BundleManifest } from '../../src/bundle/manifest.js';
import type { EngineVersion } from '../../src/docker/engine.js';
import { checkPlatforms } from '../../src/import/preflight.js';
import { baseManifest } from '../support/bundle-fixture.js';

const engine: EngineVersion = {
  version: '27.0',
  apiVersion: '1.46',
  os: 'linux',
  arch: 'x86_64',
  rootDir: '/x',
};

function image(tag: string, os: string, architecture: string): BundleImage {
  return {
    id: `sha256:${tag.length.toString(16).padStart(64, '0')}`,
    tags: [tag],
    os,
    architecture,
    size: 1,
    role: 'service',
    archive: 'images/images.tar',
  };
}

function manifest(images: BundleImage[]): BundleManifest {
  return { ...baseManifest('platforms', '1.0.0', new Date(0)), images, files: [] };
}

describe('checkPlatforms (pre-flight: the engine can run the bundle images)', () => {
  it('passes images of the engine platform (amd64 is x86_64)', () => {
    expect(checkPlatforms(manifest([image('api:1', 'linux', 'amd64')]), engine, false)).toEqual([]);
  });

  it('refuses an image of another os/arch: EPLATFORM naming the image and both platforms', () => {
    const m = manifest([image('api:1', 'linux', 'amd64'), image('worker:2', 'linux', 'arm64')]);
    expect(() => checkPlatforms(m, engine, false)).toThrow(
      expect.objectContaining({
        code: 'EPLATFORM',
        file: 'worker:2',
        expected: 'linux/x86_64',
        found: 'linux/arm64',
        message: 'worker:2: built for linux/arm64, this engine runs linux/x86_64',
      }),
    );
  });

  it('with force, warns for each such image instead', () => {
    const m = manifest([image('worker:2', 'linux', 'arm64'), image('win:3', 'windows', 'amd64')]);
    expect(checkPlatforms(m, engine, true)).toEqual([
      'worker:2: built for linux/arm64, this engine runs linux/x86_64',
      'win:3: built for windows/amd64, this engine runs linux/x86_64',
    ]);
  });

  it('checks only the images given, those the engine gets', () => {
    const arm = image('worker:2', 'linux', 'arm64');
    const m = manifest([image('api:1', 'linux', 'amd64'), arm]);
    expect(checkPlatforms(m, engine, false, new Set([m.images[0]?.id as string]))).toEqual([]);
    expect(() => checkPlatforms(m, engine, false, new Set([arm.id]))).toThrow(
      expect.objectContaining({ code: 'EPLATFORM', file: 'worker:2' }),
    );
  });
});
