import { Readable } from 'node:stream';
import type { BundleManifest } from '../bundle/manifest.js';
import type { DockerEngine } from '../docker/engine.js';
import { OfflineError } from '../errors.js';
import { type ImageSnapshot, tagsById } from './image-snapshot.js';
import { inLoadOrder, loadInRequests } from './pipelined-load.js';

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
 * lacks; otherwise reads past it. An archive in load order goes in several requests when `inRequests` (the
 * engine is one that loads them so: pipelined-load.ts), any other in one. The caller checks the archive's hash
 * after this returns.
 */
export async function loadArchive(
  engine: DockerEngine,
  present: ReadonlySet<string>,
  manifest: BundleManifest,
  archive: string,
  stream: Readable,
  inRequests = false,
): Promise<LoadOutcome> {
  const ids = manifest.archives.find((a) => a.path === archive)?.images ?? [];
  const missing = missingImages(present, manifest, archive);
  if (missing.length === 0) {
    stream.resume();
    return { loaded: [], skipped: ids };
  }
  const head = inRequests ? await peekHead(stream, 512) : undefined;
  if (head && inLoadOrder(head.bytes)) await loadInRequests(engine, head.stream, present);
  else await engine.loadImages(head?.stream ?? stream);
  return { loaded: missing, skipped: ids.filter((id) => !missing.includes(id)) };
}

/**
 * After loading: every image of the manifest exists with its ID, and carries its tags (a tag that points
 * elsewhere, or is missing because the image was skipped, is set). The engine's images are listed once (one
 * request, not one per image); an image missing from the list is inspected before it is called missing. When
 * this run loaded nothing, `found`, the list it took when it began, stands for the engine's images: a re-import
 * then asks the engine for no second list (15-25 ms with 80 images on this VM, and more with more images).
 */
export async function ensureImagesTagged(
  engine: DockerEngine,
  manifest: BundleManifest,
  archives: Set<string>,
  found?: ImageSnapshot,
): Promise<void> {
  const listed = found
    ? tagsById(found)
    : new Map((await engine.listImages()).map((i) => [i.id, i.repoTags]));
  for (const image of manifest.images.filter((i) => archives.has(i.archive))) {
    const repoTags = listed.get(image.id) ?? (await engine.inspectImage(image.id))?.repoTags;
    if (!repoTags) {
      throw new OfflineError('EDOCKER', `${image.tags[0] ?? image.id}: not in the engine after the load`, {
        file: image.tags[0] ?? image.id,
        expected: image.id,
        found: 'nothing',
      });
    }
    for (const tag of image.tags) {
      if (repoTags.includes(tag)) continue;
      const colon = tag.lastIndexOf(':');
      await engine.tagImage(image.id, tag.slice(0, colon), tag.slice(colon + 1));
    }
  }
}

/**
 * The first `bytes` of a stream without consuming them: returns them and a stream that still yields them (the
 * same stream with them put back, or a new one when the stream already ended).
 */
function peekHead(stream: Readable, bytes: number): Promise<{ bytes: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onReadable = () => {
      while (size < bytes) {
        const chunk = stream.read() as Buffer | null;
        if (chunk === null) break;
        chunks.push(chunk);
        size += chunk.length;
      }
      if (size < bytes) return;
      cleanup();
      const head = Buffer.concat(chunks);
      stream.unshift(head);
      resolve({ bytes: head, stream });
    };
    const onEnd = () => {
      cleanup();
      const head = Buffer.concat(chunks);
      resolve({ bytes: head, stream: Readable.from([head]) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}
