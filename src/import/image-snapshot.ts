import type { DockerEngine } from '../docker/engine.js';

/** Which image IDs and tags exist before an import touches the engine, so a failure can put them back. */
export interface ImageSnapshot {
  ids: Set<string>;
  /** tag -> image ID */
  tags: Map<string, string>;
}

export async function takeImageSnapshot(engine: DockerEngine): Promise<ImageSnapshot> {
  const images = await engine.listImages();
  const tags = new Map<string, string>();
  for (const image of images) for (const tag of image.repoTags) tags.set(tag, image.id);
  return { ids: new Set(images.map((i) => i.id)), tags };
}

/**
 * Puts the engine's images back as they were, for the images and tags this import can touch (the bundle's):
 * every such image this run added is removed (force, so its tags go too), and such tags that pointed at
 * another image before are pointed back. Images that existed before are never removed, and nothing outside
 * the bundle is touched (another process may be using the engine). Returns what it undid.
 */
export async function restoreImageSnapshot(
  engine: DockerEngine,
  before: ImageSnapshot,
  bundle: { ids: ReadonlySet<string>; tags: ReadonlySet<string> },
): Promise<{ removed: string[]; retagged: string[] }> {
  const after = await takeImageSnapshot(engine);
  const retagged: string[] = [];
  for (const [tag, id] of before.tags) {
    if (bundle.tags.has(tag) && after.tags.get(tag) !== id) {
      const colon = tag.lastIndexOf(':');
      await engine.tagImage(id, tag.slice(0, colon), tag.slice(colon + 1));
      retagged.push(tag);
    }
  }
  const removed: string[] = [];
  for (const id of after.ids) {
    if (bundle.ids.has(id) && !before.ids.has(id)) {
      await engine.removeImage(id, { force: true });
      removed.push(id);
    }
  }
  return { removed, retagged };
}
