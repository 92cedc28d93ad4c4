import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { finalizeStaging } from '../../src/bundle/finalize.js';
import type { Compression } from '../../src/bundle/layout.js';
import {
  archiveFileName,
  bundleStem,
  CHECKSUMS_FILE,
  IMAGES_ARCHIVE,
  MANIFEST_FILE,
  sidecarFileName,
} from '../../src/bundle/layout.js';
import { type BundleImage, type BundleManifest, formatManifest } from '../../src/bundle/manifest.js';
import { type PackedBundle, packBundle } from '../../src/bundle/pack.js';
import { formatSidecar } from '../../src/bundle/sidecar.js';
import type { Digest } from '../../src/checksum/hash-stream.js';
import { formatChecksums } from '../../src/checksum/sha256sum-format.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { canonicalSave } from '../../src/export/canonical-save.js';
import { writeStreamAtomic } from '../../src/fs/atomic-file.js';
import { cacheFileName, canonicalUrl } from '../../src/tiktoken/cache-name.js';

export interface FixtureOptions {
  name?: string;
  version?: string;
  /** Files under the bundle's top folder, e.g. { 'stack/docker-compose.yml': '...' }. */
  files?: Record<string, string | Buffer>;
  /** Images to save into images/images.tar with one multi-image save (needs engine). */
  engine?: DockerEngine;
  images?: string[];
  /** images/images.tar in load order, as `offline export` writes it (canonicalSave), not the engine's order. */
  loadOrder?: boolean;
  /** tiktoken cache files by encoding name, stored as tiktoken/<sha1 of URL> with manifest entries. */
  tiktoken?: Record<string, string | Buffer>;
  compression?: Compression;
  splitSize?: number;
  mtime?: Date;
  /** Last chance to change the manifest before it is written. */
  manifest?: (m: Omit<BundleManifest, 'files'>) => Omit<BundleManifest, 'files'>;
  /** Runs on the finalised staging folder before packing: change a file after its checksum was taken. */
  mutate?: (stagingDir: string) => Promise<void>;
}

export interface Fixture extends PackedBundle {
  outDir: string;
  manifest: BundleManifest;
  options: FixtureOptions & { name: string; version: string; mtime: Date; compression: Compression };
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

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
}

async function saveImages(engine: DockerEngine, refs: string[], staging: string, loadOrder: boolean) {
  await mkdir(path.join(staging, 'images'), { recursive: true });
  const archive = path.join(staging, IMAGES_ARCHIVE);
  const saved = loadOrder ? `${archive}.engine-order` : archive;
  let digest = await writeStreamAtomic(await engine.saveImages(refs), saved);
  if (loadOrder) {
    digest = await writeStreamAtomic(Readable.from(canonicalSave(saved, new Date(0))), archive);
    await rm(saved);
  }
  const images: BundleImage[] = [];
  for (const ref of refs) {
    const info = await engine.inspectImage(ref);
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
  return { digest, images };
}

/** Builds a real bundle with finalizeStaging + packBundle, saving real images when asked. */
export async function makeBundle(options: FixtureOptions = {}): Promise<Fixture> {
  const resolved = {
    ...options,
    name: options.name ?? 'fixture',
    version: options.version ?? '1.0.0',
    mtime: options.mtime ?? new Date('2026-01-01T00:00:00Z'),
    compression: options.compression ?? ('gzip' as const),
  };
  const work = await mkdtemp(path.join(tmpdir(), 'offline-fixture-'));
  const staging = path.join(work, 'staging');
  const outDir = path.join(work, 'out');
  await mkdir(staging, { recursive: true });
  await writeTree(staging, options.files ?? {});
  const known = new Map<string, Digest>();
  let manifest = baseManifest(resolved.name, resolved.version, resolved.mtime);
  if (options.images?.length) {
    if (!options.engine) throw new Error('makeBundle: images need an engine');
    const { digest, images } = await saveImages(
      options.engine,
      options.images,
      staging,
      options.loadOrder ?? false,
    );
    known.set(IMAGES_ARCHIVE, digest);
    const archives = [{ path: IMAGES_ARCHIVE, kind: 'images' as const, images: images.map((i) => i.id) }];
    manifest = { ...manifest, images, archives };
  }
  const tiktoken = Object.entries(options.tiktoken ?? {}).map(([encoding, content]) => {
    const url = canonicalUrl(`/encodings/${encoding}.tiktoken`);
    const file = `tiktoken/${cacheFileName(url)}`;
    return { encoding, url, file, sha256: sha256(content), size: Buffer.byteLength(content), content };
  });
  await writeTree(staging, Object.fromEntries(tiktoken.map((t) => [t.file, t.content])));
  manifest.tiktoken.entries = tiktoken.map(({ content: _, ...entry }) => entry);
  const finalManifest = await finalizeStaging(
    staging,
    options.manifest ? options.manifest(manifest) : manifest,
    known,
  );
  await options.mutate?.(staging);
  const packed = await packFixture(staging, outDir, resolved);
  await rm(staging, { recursive: true, force: true });
  return {
    ...packed,
    outDir,
    manifest: finalManifest,
    options: resolved,
    cleanup: () => rm(work, { recursive: true, force: true }),
  };
}

function packFixture(staging: string, outDir: string, o: Fixture['options']): Promise<PackedBundle> {
  return packBundle({
    stagingDir: staging,
    outDir,
    name: o.name,
    version: o.version,
    compression: o.compression,
    ...(o.splitSize !== undefined && { splitSize: o.splitSize }),
    mtime: o.mtime,
  });
}

const TAR_FLAG: Record<Compression, string[]> = { gzip: ['-z'], zstd: ['--zstd'], none: [] };

/** The bundle's files as they are in the archive, extracted with GNU tar into a temp folder (caller removes). */
export async function extractFixture(fixture: Fixture): Promise<{ root: string; dir: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'offline-extract-'));
  const files = fixture.parts.length > 0 ? fixture.parts : [fixture.archive];
  const flag = TAR_FLAG[fixture.options.compression].join(' ');
  execFileSync('bash', ['-c', `cat "$@" | tar -x ${flag} -f - -C ${root}`, 'cat', ...files]);
  return { root, dir: path.join(root, bundleStem(fixture.options.name, fixture.options.version)) };
}

/**
 * Corrupts one entry inside the archive: flips a byte of `entry` (at `offset`, default the middle) and packs
 * the bundle again with the old manifest.json and checksums.sha256 (and a fresh sidecar, so the copy itself
 * is fine and the damage is inside). The reader must name `entry`.
 */
export async function flipEntryByte(fixture: Fixture, entry: string, offset?: number): Promise<void> {
  const { root, dir } = await extractFixture(fixture);
  try {
    const file = path.join(dir, entry);
    const bytes = await readFile(file);
    const at = offset ?? Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(file, bytes);
    await Promise.all(
      [fixture.archive, fixture.sidecar, ...fixture.parts].map((f) => rm(f, { force: true })),
    );
    Object.assign(fixture, await packFixture(dir, fixture.outDir, fixture.options));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Cuts the archive (or its last part) to `keep` bytes. sidecar 'keep' leaves the old sidecar (the copy is
 * bad: the part is named), 'update' rewrites it to match (the bundle was truncated at the source).
 */
export async function truncateBundle(
  fixture: Fixture,
  keep: number,
  sidecar: 'keep' | 'update',
): Promise<void> {
  const files = fixture.parts.length > 0 ? fixture.parts : [fixture.archive];
  await truncate(files.at(-1) as string, keep);
  if (sidecar === 'update') {
    const written = await Promise.all(
      files.map(async (file) => ({
        file,
        sha256: sha256(await readFile(file)),
        size: (await stat(file)).size,
      })),
    );
    await writeFile(fixture.sidecar, formatSidecar(written));
  }
}

export interface CraftedEntry {
  /** The raw path in the tar header (no top folder added). */
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
  linkpath?: string;
  content?: string;
}

/**
 * Writes a bundle tar by hand: valid manifest.json and checksums.sha256 for `files` (under the top folder),
 * those files, then the raw `extra` entries exactly as given (`../../etc/x`, `/etc/x`, a symlink out of the
 * tree...). gzip-compressed with a matching sidecar. Small test data only (built in memory).
 */
export async function craftBundle(
  outDir: string,
  files: Record<string, string>,
  extra: CraftedEntry[],
  name = 'crafted',
): Promise<string> {
  const version = '1.0.0';
  const top = bundleStem(name, version);
  const mtime = new Date('2026-01-01T00:00:00Z');
  const listed = Object.entries(files).map(([p, c]) => ({
    path: p,
    size: Buffer.byteLength(c),
    sha256: sha256(c),
  }));
  const manifest = formatManifest({ ...baseManifest(name, version, mtime), files: listed });
  const checksums = formatChecksums([...listed, { path: MANIFEST_FILE, sha256: sha256(manifest) }]);
  const entries: CraftedEntry[] = [
    { path: `${top}/${MANIFEST_FILE}`, content: manifest },
    { path: `${top}/${CHECKSUMS_FILE}`, content: checksums },
    ...Object.entries(files).map(([p, content]) => ({ path: `${top}/${p}`, content })),
    ...extra,
  ];
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.content ?? '');
    const header = Buffer.alloc(512);
    new Header({
      path: entry.path,
      mode: entry.type === 'Directory' ? 0o755 : 0o644,
      size: entry.type === undefined || entry.type === 'File' ? body.length : 0,
      type: entry.type ?? 'File',
      mtime,
      uid: 0,
      gid: 0,
      ...(entry.linkpath !== undefined && { linkpath: entry.linkpath }),
    }).encode(header, 0);
    blocks.push(header);
    if (entry.type === undefined || entry.type === 'File') {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  await mkdir(outDir, { recursive: true });
  const archive = path.join(outDir, archiveFileName(name, version, 'gzip'));
  const bytes = gzipSync(Buffer.concat(blocks));
  await writeFile(archive, bytes);
  await writeFile(
    path.join(outDir, sidecarFileName(path.basename(archive))),
    formatSidecar([{ file: archive, sha256: sha256(bytes), size: bytes.length }]),
  );
  return archive;
}

/** Names in a folder that look like leftovers of an unfinished pack (temp files) or a finished bundle. */
export async function bundleLeftovers(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.tmp') || n.includes('.offline.tar'));
}
