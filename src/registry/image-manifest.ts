import { createHash } from 'node:crypto';
import type { ArchiveImage, SpooledBlob } from './image-archive.js';

export const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const CONFIG = 'application/vnd.docker.container.image.v1+json';
/** Uncompressed layers keep the blob digest equal to the diff_id, so the image ID stays what was exported. */
const LAYER = {
  none: 'application/vnd.docker.image.rootfs.diff.tar',
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

/** The image's Docker schema 2 manifest, as the bytes to PUT and their digest. */
export function imageManifest(image: ArchiveImage): { body: Buffer; digest: string } {
  const descriptor = (blob: SpooledBlob, mediaType: string) => ({
    mediaType,
    size: blob.size,
    digest: `sha256:${blob.sha256}`,
  });
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_V2,
    config: descriptor(image.config, CONFIG),
    layers: image.layers.map((layer) => descriptor(layer, LAYER[layer.compression])),
  };
  const body = Buffer.from(JSON.stringify(manifest, null, 2));
  return { body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` };
}
