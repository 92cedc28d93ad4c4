import type { Readable } from 'node:stream';
import type { BundleManifest } from '../bundle/manifest.js';
import type { DockerEngine } from '../docker/engine.js';
import { OfflineError } from '../errors.js';

export interface LoadOutcome {
  loaded: string[];
  skipped: string[];
}

/**
 * The bundle images an archive holds that are not among `present`: the image IDs the engine has, from the one
 * list the import takes when it begins (not a request per image) plus the images it has loaded since.
 */
export function missingImages(
  present: ReadonlySet<string>,
  manifest: BundleManifest,
  archive: string,
): string[] {
  const ids = manifest.archives.find((a) => a.path === archive)?.images ?? [];
  return ids.filter((id) => !present.has(id));
}

/**
 * Streams one image archive into `docker load` (every stream object checked) when it holds an image the engine
 * lacks; otherwise reads past it. The caller checks the archive's hash after this returns.
 */
export async function loadArchive(
  engine: DockerEngine,
  present: ReadonlySet<string>,
  manifest: BundleManifest,
  archive: string,
  stream: Readable,
): Promise<LoadOutcome> {
  const ids = manifest.archives.find((a) => a.path === archive)?.images ?? [];
  const missing = missingImages(present, manifest, archive);
  if (missing.length === 0) {
    stream.resume();
    return { loaded: [], skipped: ids };
  }
  await engine.loadImages(stream);
  return { loaded: missing, skipped: ids.filter((id) => !missing.includes(id)) };
}

/**
 * After loading: every image of the manifest exists with its ID, and carries its tags (a tag that points
 * elsewhere, or is missing because the image was skipped, is set). The engine's images are listed once (one
 * request, not one per image); an image missing from the list is inspected before it is called missing.
 */
export async function ensureImagesTagged(
  engine: DockerEngine,
  manifest: BundleManifest,
  archives: Set<string>,
): Promise<void> {
  const listed = new Map((await engine.listImages()).map((i) => [i.id, i]));
  for (const image of manifest.images.filter((i) => archives.has(i.archive))) {
    const info = listed.get(image.id) ?? (await engine.inspectImage(image.id));
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
