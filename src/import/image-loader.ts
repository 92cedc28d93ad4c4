import type { Readable } from 'node:stream';
import type { BundleManifest } from '../bundle/manifest.js';
import type { DockerEngine } from '../docker/engine.js';
import { OfflineError } from '../errors.js';

export interface LoadOutcome {
  loaded: string[];
  skipped: string[];
}

/** The bundle images an archive holds that the engine lacks (by image ID). */
export async function missingImages(
  engine: DockerEngine,
  manifest: BundleManifest,
  archive: string,
): Promise<string[]> {
  const ids = manifest.archives.find((a) => a.path === archive)?.images ?? [];
  const missing: string[] = [];
  for (const id of ids) if (!(await engine.inspectImage(id))) missing.push(id);
  return missing;
}

/**
 * Streams one image archive into `docker load` (every stream object checked) when it holds an image the engine
 * lacks; otherwise reads past it. The caller checks the archive's hash after this returns.
 */
export async function loadArchive(
  engine: DockerEngine,
  manifest: BundleManifest,
  archive: string,
  stream: Readable,
): Promise<LoadOutcome> {
  const ids = manifest.archives.find((a) => a.path === archive)?.images ?? [];
  const missing = await missingImages(engine, manifest, archive);
  if (missing.length === 0) {
    stream.resume();
    return { loaded: [], skipped: ids };
  }
  await engine.loadImages(stream);
  return { loaded: missing, skipped: ids.filter((id) => !missing.includes(id)) };
}

/**
 * After loading: every image of the manifest exists with its ID, and carries its tags (a tag that points
 * elsewhere, or is missing because the image was skipped, is set).
 */
export async function ensureImagesTagged(
  engine: DockerEngine,
  manifest: BundleManifest,
  archives: Set<string>,
): Promise<void> {
  for (const image of manifest.images.filter((i) => archives.has(i.archive))) {
    const info = await engine.inspectImage(image.id);
    if (!info) {
      throw new OfflineError('EDOCKER', `${image.tags[0] ?? image.id}: not in the engine after the load`, {
        file: image.tags[0] ?? image.id,
        expected: image.id,
        found: 'nothing',
      });
    }
    for (const tag of image.tags) {
      if (info.repoTags.includes(tag)) continue;
      const colon = tag.lastIndexOf(':');
      await engine.tagImage(image.id, tag.slice(0, colon), tag.slice(colon + 1));
    }
  }
}
