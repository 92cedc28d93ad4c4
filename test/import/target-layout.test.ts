import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { isImageArchive, lastArchive, targetPathFor } from '../../src/import/target-layout.js';

function withArchives(...paths: string[]): BundleManifest {
  return {
    archives: paths.map((path) => ({
      path,
      kind: path.startsWith('caches/') ? 'build-cache' : 'images',
      images: [],
    })),
  } as unknown as BundleManifest;
}

describe('target layout', () => {
  it('the last archive is the one last in the bundle (images after the build cache), not last in the manifest', () => {
    // The export lists images/images.tar first; in the archive it comes after caches/build-cache.tar. Stopping
    // "before the last archive" at the build cache would leave the images unread.
    expect(lastArchive(withArchives('images/images.tar', 'caches/build-cache.tar'))).toBe(
      'images/images.tar',
    );
    expect(lastArchive(withArchives('caches/build-cache.tar', 'images/images.tar'))).toBe(
      'images/images.tar',
    );
    expect(lastArchive(withArchives('images/images.tar'))).toBe('images/images.tar');
    expect(lastArchive(withArchives())).toBeUndefined();
  });

  it('places stack files at the top, the tiktoken cache in tiktoken/, the bundle own files in .offline/', () => {
    expect(targetPathFor('stack/docker-compose.yml')).toBe('docker-compose.yml');
    expect(targetPathFor('tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4')).toBe(
      'tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4',
    );
    expect(targetPathFor('README.txt')).toBe('.offline/README.txt');
    expect(isImageArchive('caches/build-cache.tar')).toBe(true);
    expect(isImageArchive('stack/images/x.tar')).toBe(false);
  });
});
