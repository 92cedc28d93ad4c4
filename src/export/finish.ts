import { rm } from 'node:fs/promises';
import path from 'node:path';
import { finalizeStaging } from '../bundle/finalize.js';
import { BUILD_CACHE_ARCHIVE, IMAGES_ARCHIVE } from '../bundle/layout.js';
import { locateBundle } from '../bundle/locate.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { type PackedBundle, packBundle } from '../bundle/pack.js';
import { readBundle } from '../bundle/reader.js';
import type { Digest } from '../checksum/hash-stream.js';
import { toolVersion } from '../cli/version.js';
import { OfflineError } from '../errors.js';
import { stageImporters } from '../selfcontained/stage-importers.js';
import { assembleManifest } from './assemble-manifest.js';
import { existingBundleFiles } from './output-files.js';
import { type ExportState, need } from './state.js';

export type { PackedBundle };

/**
 * 8. The importers, manifest.json (section 3), README.txt and checksums.sha256; the digests of the archives and
 * the tiktoken files are reused, not re-read.
 */
export async function finalizeStep(state: ExportState): Promise<BundleManifest> {
  const compose = need(state.compose, 'compose');
  const assembled = assembleManifest({
    options: state.options,
    toolVersion: toolVersion(),
    createdAt: state.createdAt,
    engine: need(state.engineVersion, 'engine version'),
    composeTool: compose.tool,
    profiles: compose.profiles,
    services: need(state.plan, 'plan').services,
    images: state.images,
    cacheImages: state.cacheImages,
    buildCaches: state.buildCaches,
    tiktoken: state.tiktoken,
  });
  // offline.mjs, import.sh (and with --with-runtime the single executable), named in manifest.runtime.
  const manifest = await stageImporters(state.stagingDir, assembled, {
    withRuntime: state.options.withRuntime ?? false,
  });
  const known = new Map<string, Digest>([[IMAGES_ARCHIVE, need(state.imagesArchive, 'images archive')]]);
  if (state.cacheArchive) known.set(BUILD_CACHE_ARCHIVE, state.cacheArchive);
  // The tiktoken files were checked against their pinned sha256 as they were written.
  for (const entry of state.tiktoken) known.set(entry.file, { sha256: entry.sha256, size: entry.size });
  return finalizeStaging(state.stagingDir, manifest, known);
}

/** 9. One deterministic archive (or parts) and its sidecar, under temp names until complete. */
export async function packStep(state: ExportState, report: (line: string) => void): Promise<PackedBundle> {
  const { options } = state;
  const before = options.force ? await existingBundleFiles(options) : [];
  const packed = await packBundle({
    stagingDir: state.stagingDir,
    outDir: options.outDir,
    name: options.name,
    version: options.version,
    compression: options.compression,
    ...(options.splitSize !== undefined && { splitSize: options.splitSize }),
    mtime: state.createdAt,
    onProgress: (bytes, total) => report(`${Math.floor((bytes / Math.max(total, 1)) * 100)}%`),
    signal: state.signal,
  });
  // --force: files of the replaced bundle that the new one did not overwrite would only confuse: its archive
  // when the new one is split, its parts when the new one is not, or its last parts when the new one has fewer.
  const written = new Set(packedFiles(packed).map((f) => path.basename(f)));
  for (const stale of before.filter((name) => !written.has(name)))
    await rm(path.join(options.outDir, stale), { force: true });
  return packed;
}

/**
 * The files a pack wrote: its parts when split (then `archive` only names what they join into and does not
 * exist), else its archive; and its sidecar.
 */
export function packedFiles(packed: PackedBundle): string[] {
  return [...(packed.parts.length > 0 ? packed.parts : [packed.archive]), packed.sidecar];
}

/** Removes a packed bundle's files: an export that fails after packing leaves nothing that looks finished. */
export async function discardPacked(packed: PackedBundle | undefined): Promise<void> {
  if (!packed) return;
  await Promise.all(packedFiles(packed).map((f) => rm(f, { force: true })));
}

/** 10. Re-reads the packed bundle once, streaming: sidecar, every entry's sha256 and size, and the images. */
export async function verifyStep(
  state: ExportState,
  packed: PackedBundle | undefined,
  report: (line: string) => void,
): Promise<{ files: number; bytes: number }> {
  const bundle = need(packed, 'packed bundle');
  const location = await locateBundle(bundle.parts[0] ?? bundle.archive);
  const read = await readBundle(
    location,
    {},
    {
      signal: state.signal,
      onBytes: (bytes) => report(`${Math.floor((bytes / Math.max(bundle.size, 1)) * 100)}%`),
    },
  );
  const ids = new Set(read.manifest.images.map((i) => i.id));
  const lost = state.images.filter((i) => !ids.has(i.id));
  if (lost.length > 0) {
    throw new OfflineError(
      'EMISSING',
      `the packed bundle's manifest lacks ${lost.map((i) => i.tags[0]).join(', ')}`,
      {
        file: bundle.archive,
      },
    );
  }
  return { files: read.verified.length, bytes: read.verified.reduce((sum, f) => sum + f.size, 0) };
}
