import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finalizeStaging } from '../../src/bundle/finalize.js';
import type { Compression } from '../../src/bundle/layout.js';
import { IMAGES_ARCHIVE } from '../../src/bundle/layout.js';
import type { BundleImage, BundleManifest } from '../../src/bundle/manifest.js';
import { type PackedBundle, packBundle } from '../../src/bundle/pack.js';
import type { Digest } from '../../src/checksum/hash-stream.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { writeStreamAtomic } from '../../src/fs/atomic-file.js';

export interface FixtureOptions {
  name?: string;
  version?: string;
  /** Files under the bundle's top folder, e.g. { 'stack/docker-compose.yml': '...' }. */
  files?: Record<string, string | Buffer>;
  /** Images to save into images/images.tar (needs engine). */
  engine?: DockerEngine;
  images?: string[];
  compression?: Compression;
  splitSize?: number;
  mtime?: Date;
  /** Last chance to change the manifest before it is written. */
  manifest?: (m: Omit<BundleManifest, 'files'>) => Omit<BundleManifest, 'files'>;
}

export interface Fixture extends PackedBundle {
  outDir: string;
  manifest: BundleManifest;
  cleanup(): Promise<void>;
}

/** A small manifest with every required field, for bundles made in tests. */
export function baseManifest(name: string, version: string, createdAt: Date): Omit<BundleManifest, 'files'> {
  return {
    format: 'offline-bundle',
    schemaVersion: 1,
    tool: { name: 'offline', version: '0.0.0-test' },
    createdAt: createdAt.toISOString(),
    name,
    version,
    project: name,
    source: { engine: { version: 'test', os: 'linux', arch: 'amd64' }, compose: 'none' },
    compose: { file: 'stack/docker-compose.yml', profiles: [] },
    services: [],
    images: [],
    archives: [],
    buildCaches: [],
    tiktoken: { dir: 'tiktoken', entries: [] },
  };
}

/** Builds a real bundle with finalizeStaging + packBundle, saving real images when asked. */
export async function makeBundle(options: FixtureOptions = {}): Promise<Fixture> {
  const name = options.name ?? 'fixture';
  const version = options.version ?? '1.0.0';
  const mtime = options.mtime ?? new Date('2026-01-01T00:00:00Z');
  const work = await mkdtemp(path.join(tmpdir(), 'offline-fixture-'));
  const staging = path.join(work, 'staging');
  const outDir = path.join(work, 'out');
  await mkdir(outDir, { recursive: true });
  const known = new Map<string, Digest>();
  for (const [rel, content] of Object.entries(options.files ?? {})) {
    await mkdir(path.dirname(path.join(staging, rel)), { recursive: true });
    await writeFile(path.join(staging, rel), content);
  }
  let manifest = baseManifest(name, version, mtime);
  if (options.images?.length) {
    if (!options.engine) throw new Error('makeBundle: images need an engine');
    await mkdir(path.join(staging, 'images'), { recursive: true });
    const saved = await options.engine.saveImages(options.images);
    known.set(IMAGES_ARCHIVE, await writeStreamAtomic(saved, path.join(staging, IMAGES_ARCHIVE)));
    const images: BundleImage[] = [];
    for (const ref of options.images) {
      const info = await options.engine.inspectImage(ref);
      if (!info) throw new Error(`makeBundle: no image ${ref}`);
      images.push({
        id: info.id,
        tags: [ref],
        os: info.os,
        architecture: info.architecture,
        size: info.size,
        role: 'service',
        archive: IMAGES_ARCHIVE,
      });
    }
    manifest = {
      ...manifest,
      images,
      archives: [{ path: IMAGES_ARCHIVE, kind: 'images', images: images.map((i) => i.id) }],
    };
  }
  await mkdir(staging, { recursive: true });
  const finalManifest = await finalizeStaging(
    staging,
    options.manifest ? options.manifest(manifest) : manifest,
    known,
  );
  const packed = await packBundle({
    stagingDir: staging,
    outDir,
    name,
    version,
    compression: options.compression ?? 'gzip',
    ...(options.splitSize !== undefined && { splitSize: options.splitSize }),
    mtime,
  });
  await rm(staging, { recursive: true, force: true });
  return {
    ...packed,
    outDir,
    manifest: finalManifest,
    cleanup: () => rm(work, { recursive: true, force: true }),
  };
}
