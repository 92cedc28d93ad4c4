import pLimit from 'p-limit';
import { OfflineError } from '../errors.js';
import { type Blob, type BlobOutcome, pushBlob } from './blob-upload.js';
import { header, type RegistryClient } from './client.js';
import type { ArchiveImage } from './image-archive.js';
import { imageManifest, MANIFEST_V2 } from './image-manifest.js';
import { mapTag, type RegistryTarget, type TagMapping } from './target.js';
import type { UploadState } from './upload-state.js';

export interface PushOptions {
  chunkSize: number;
  /** Blobs uploaded at the same time. */
  concurrency: number;
  state: UploadState;
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
 * that point leaves no tag pointing at a missing blob.
 */
export async function pushImages(
  client: RegistryClient,
  images: ArchiveImage[],
  target: RegistryTarget,
  options: PushOptions,
): Promise<PushReport> {
  const blobs: Record<BlobOutcome, number> = { present: 0, mounted: 0, uploaded: 0, resumed: 0 };
  const tagged = images.filter((image) => image.tags.length > 0);
  const plans = tagged.map((image) => ({ image, tags: image.tags.map((tag) => mapTag(tag, target)) }));
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
  const holder = new Map<string, string>();
  const limit = pLimit(options.concurrency);
  for (const [repository, wanted] of needs) {
    await Promise.all(
      [...wanted.values()].map((blob) =>
        limit(async () => {
          const mountFrom = holder.get(blob.digest);
          const outcome = await pushBlob(client, repository, blob, {
            chunkSize: options.chunkSize,
            state: options.state,
            ...(mountFrom && { mountFrom }),
          });
          blobs[outcome]++;
          holder.set(blob.digest, repository);
          options.onBlob?.(repository, blob.digest, outcome);
        }),
      ),
    );
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
      });
      if (put.status !== 201) throw client.unexpected(`PUT ${url}`, put);
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
