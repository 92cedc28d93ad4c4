import pLimit from 'p-limit';
import { OfflineError } from '../errors.js';
import { type Blob, type BlobOutcome, pushBlob } from './blob-upload.js';
import { header, type RegistryClient } from './client.js';
import type { ArchiveImage } from './image-archive.js';
import { imageManifest, MANIFEST_V2 } from './image-manifest.js';
import { mapTag, type RegistryTarget, sameTarget, type TagMapping } from './target.js';
import type { UploadState } from './upload-state.js';

export interface PushOptions {
  chunkSize: number;
  /** Blobs uploaded at the same time. */
  concurrency: number;
  state: UploadState;
  /** Stops every request (Ctrl-C). */
  signal?: AbortSignal;
  onBlob?: (repository: string, digest: string, outcome: BlobOutcome) => void;
}

export interface PushedImage {
  id: string;
  manifestDigest: string;
  tags: TagMapping[];
}

export interface PushReport {
  images: PushedImage[];
  /** Images the archive holds without any tag: nothing to name them by in a registry. */
  untagged: string[];
  blobs: Record<BlobOutcome, number>;
  bytesSent: number;
}

/**
 * Pushes every tagged image of the archive: for each repository, every blob it needs (HEAD, mount or chunked
 * upload), and only when every blob of every repository is in place, the manifests, one per tag. A failure before
 * that point leaves no tag pointing at a missing blob. The first failed blob stops the others (their requests are
 * aborted, the queued ones never start) and is thrown once none runs any more. Two images that would get one
 * registry name are refused before anything is sent.
 */
export async function pushImages(
  client: RegistryClient,
  images: ArchiveImage[],
  target: RegistryTarget,
  options: PushOptions,
): Promise<PushReport> {
  const blobs: Record<BlobOutcome, number> = { present: 0, mounted: 0, uploaded: 0, resumed: 0 };
  const plans = planTags(images, target);
  const needs = new Map<string, Map<string, Blob>>();
  for (const { image, tags } of plans) {
    for (const { repository } of tags) {
      const wanted = needs.get(repository) ?? new Map<string, Blob>();
      for (const blob of [image.config, ...image.layers]) {
        wanted.set(`sha256:${blob.sha256}`, {
          digest: `sha256:${blob.sha256}`,
          size: blob.size,
          file: blob.file,
        });
      }
      needs.set(repository, wanted);
    }
  }
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let failure: { error: unknown } | undefined;
  const holder = new Map<string, string>();
  const limit = pLimit(options.concurrency);
  for (const [repository, wanted] of needs) {
    await Promise.all(
      [...wanted.values()].map((blob) =>
        limit(async () => {
          if (signal.aborted) return;
          const mountFrom = holder.get(blob.digest);
          try {
            const outcome = await pushBlob(client, repository, blob, {
              chunkSize: options.chunkSize,
              state: options.state,
              signal,
              ...(mountFrom && { mountFrom }),
            });
            blobs[outcome]++;
            holder.set(blob.digest, repository);
            options.onBlob?.(repository, blob.digest, outcome);
          } catch (error) {
            failure ??= { error };
            stop.abort(error);
          }
        }),
      ),
    );
    if (failure) throw failure.error;
    signal.throwIfAborted();
  }
  const pushed: PushedImage[] = [];
  for (const { image, tags } of plans) {
    const manifest = imageManifest(image);
    for (const mapping of tags) {
      const url = `/v2/${mapping.repository}/manifests/${mapping.tag}`;
      const put = await client.request({
        method: 'PUT',
        url,
        repositories: [mapping.repository],
        headers: { 'content-type': MANIFEST_V2 },
        body: manifest.body,
        signal,
      });
      if (put.status !== 201) throw client.unexpected(`PUT ${url}`, put, 201);
      const digest = header(put, 'docker-content-digest');
      if (digest && digest !== manifest.digest) {
        throw new OfflineError(
          'EREGISTRY',
          `${mapping.reference}: the registry stored another manifest digest`,
          {
            file: mapping.reference,
            expected: manifest.digest,
            found: digest,
          },
        );
      }
    }
    pushed.push({ id: `sha256:${image.id}`, manifestDigest: manifest.digest, tags });
  }
  return {
    images: pushed,
    untagged: images.filter((image) => image.tags.length === 0).map((image) => `sha256:${image.id}`),
    blobs,
    bytesSent: client.bytesSent,
  };
}

/**
 * Each tagged image with the registry names of its tags, one per name: two tags of one image under one name are
 * pushed once; two different images under one name (`registry.example.com/team/w:2` and `team/w:2`) are EFORMAT.
 */
function planTags(images: ArchiveImage[], target: RegistryTarget) {
  const owner = new Map<string, { id: string; source: string }>();
  const plans: { image: ArchiveImage; tags: TagMapping[] }[] = [];
  for (const image of images.filter((i) => i.tags.length > 0)) {
    const tags: TagMapping[] = [];
    for (const mapping of image.tags.map((tag) => mapTag(tag, target))) {
      const other = owner.get(mapping.reference);
      if (other && other.id !== image.id) throw sameTarget(mapping.reference, other.source, mapping.source);
      if (other) continue;
      owner.set(mapping.reference, { id: image.id, source: mapping.source });
      tags.push(mapping);
    }
    plans.push({ image, tags });
  }
  return plans;
}
