import type { DockerEngine, ImageInfo } from '../docker/engine.js';
import { OfflineError } from '../errors.js';

/** Which image IDs and tags exist before an import touches the engine, so a failure can put them back. */
export interface ImageSnapshot {
  ids: Set<string>;
  /** tag -> image ID */
  tags: Map<string, string>;
}

export interface UndoneImages {
  /** Images this run added, removed again. */
  removed: string[];
  /** Tags put back as they were: moved back to the image they named before, or taken off when they named none. */
  retagged: string[];
}

export async function takeImageSnapshot(engine: DockerEngine): Promise<ImageSnapshot> {
  return snapshotOf(await engine.listImages());
}

function snapshotOf(images: ImageInfo[]): ImageSnapshot {
  const tags = new Map<string, string>();
  for (const image of images) for (const tag of image.repoTags) tags.set(tag, image.id);
  return { ids: new Set(images.map((i) => i.id)), tags };
}

/** The snapshot the other way round: image ID -> its tags (none for an untagged image). */
export function tagsById(snapshot: ImageSnapshot): Map<string, string[]> {
  const images = new Map([...snapshot.ids].map((id) => [id, [] as string[]]));
  for (const [tag, id] of snapshot.tags) images.get(id)?.push(tag);
  return images;
}

/**
 * Puts the engine's images back as they were, for the images and tags this import can touch (the bundle's).
 * Removed (force, so their tags go too): every image not in `before` that has a bundle image's ID or carries
 * a bundle tag (a damaged config loads under another ID than the manifest's, with the bundle's tags). Bundle
 * tags that named another image before are pointed back, as is any tag that sat on an image being removed;
 * bundle tags that named nothing before are taken off images that existed before (only when the image keeps
 * another tag: removing its last tag would delete it). Images that existed before are never removed, and
 * nothing else is touched (another process may be using the engine).
 * Every step is tried; when some fail, one EDOCKER error names each failure and what was undone.
 */
export async function restoreImageSnapshot(
  engine: DockerEngine,
  before: ImageSnapshot,
  bundle: { ids: ReadonlySet<string>; tags: ReadonlySet<string> },
): Promise<UndoneImages> {
  const images = await engine.listImages();
  const after = snapshotOf(images);
  const added = images.filter(
    (i) => !before.ids.has(i.id) && (bundle.ids.has(i.id) || i.repoTags.some((t) => bundle.tags.has(t))),
  );
  const toRemove = new Set(added.map((i) => i.id));
  const done: UndoneImages = { removed: [], retagged: [] };
  const failures: OfflineError[] = [];
  const attempt = async (what: string, step: () => Promise<void>, onDone: () => void) => {
    try {
      await step();
      onDone();
    } catch (error) {
      failures.push(
        new OfflineError('EDOCKER', `${what}: ${(error as Error).message}`, { file: what, cause: error }),
      );
    }
  };

  // Tags that named another image before: moved back.
  const restore = [...before.tags].filter(([tag, id]) => {
    const now = after.tags.get(tag);
    return now !== id && (bundle.tags.has(tag) || (now !== undefined && toRemove.has(now)));
  });
  const restoredOnto = new Map<string, number>();
  for (const [tag, id] of restore) {
    const colon = tag.lastIndexOf(':');
    await attempt(
      `tag ${id} ${tag}`,
      () => engine.tagImage(id, tag.slice(0, colon), tag.slice(colon + 1)),
      () => {
        done.retagged.push(tag);
        restoredOnto.set(id, (restoredOnto.get(id) ?? 0) + 1);
      },
    );
  }

  // Bundle tags that named nothing before, now on an image that existed before: taken off it.
  for (const image of images.filter((i) => before.ids.has(i.id))) {
    const extra = image.repoTags.filter((t) => bundle.tags.has(t) && !before.tags.has(t));
    if (extra.length === 0) continue;
    const moved = image.repoTags.filter((t) => restore.some(([tag]) => tag === t)).length;
    const kept = image.repoTags.length - extra.length - moved + (restoredOnto.get(image.id) ?? 0);
    if (kept === 0) {
      failures.push(
        new OfflineError(
          'EDOCKER',
          `${extra.join(', ')} left on ${image.id}, which existed before: it has no other tag, and removing its last one would delete it`,
          { file: image.id, expected: 'untagged', found: extra.join(', ') },
        ),
      );
      continue;
    }
    for (const tag of extra) {
      await attempt(
        `untag ${tag}`,
        () => engine.removeImage(tag),
        () => done.retagged.push(tag),
      );
    }
  }

  for (const id of toRemove) {
    await attempt(
      `remove ${id}`,
      () => engine.removeImage(id, { force: true }),
      () => done.removed.push(id),
    );
  }

  if (failures.length > 0) {
    throw new OfflineError(
      'EDOCKER',
      `${failures.length} step(s) failed (removed ${done.removed.length} image(s), restored ${done.retagged.length} tag(s)): ${failures.map((f) => f.message).join('; ')}`,
      {
        problems: failures,
        hint: 'check the engine with docker image ls; remove or retag what is left by hand',
      },
    );
  }
  return done;
}
