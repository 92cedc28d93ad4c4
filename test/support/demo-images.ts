import type { DockerEngine } from '../../src/docker/engine.js';

/**
 * The built-in demo's compose file names its images offline-demo/*, so the tests that export it (make demo's
 * script, the Swarm demo) take this lock across test workers: one builds, exports and removes them at a time.
 */
export const DEMO_IMAGES_LOCK = '/tmp/offline-demo-images.lock';

/** Removes the demo's images and the build-cache images an export of it under `bundleName` tagged. */
export async function removeDemoImages(engine: DockerEngine, bundleName: string): Promise<void> {
  const prefixes = ['offline-demo/', `offline-cache/${bundleName}/`];
  for (const image of await engine.listImages()) {
    const tags = image.repoTags.filter((t) => prefixes.some((p) => t.startsWith(p)));
    for (const tag of tags) await engine.removeImage(tag, { force: true }).catch(() => {});
  }
}
