import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { walkFiles } from '../fs/walk.js';
import { createCompressor } from './compress.js';
import {
  archiveFileName,
  bundleStem,
  type Compression,
  entryRank,
  IMPORT_SCRIPT,
  IMPORTER_BUNDLE,
  sidecarFileName,
} from './layout.js';
import { stageSidecar } from './sidecar.js';
import { SplitWriter } from './split-writer.js';

export { parseSize } from './size.js';

export interface PackOptions {
  stagingDir: string;
  outDir: string;
  name: string;
  version: string;
  compression: Compression;
  /** Compression level; default: gzip 6, zstd 3. */
  level?: number;
  /** Bytes per part; undefined: one archive file. */
  splitSize?: number;
  /** mtime of every entry: SOURCE_DATE_EPOCH or the manifest's createdAt. */
  mtime: Date;
  /** Called with the uncompressed tar bytes packed so far and their expected total. */
  onProgress?: (bytes: number, total: number) => void;
  /** Aborting stops the pack and removes everything it wrote (the caller wires Ctrl-C to it). */
  signal?: AbortSignal;
}

export interface PackedBundle {
  /** The archive's path (when split, the name the parts join back to; that file does not exist). */
  archive: string;
  /** The parts, in order; empty when not split. */
  parts: string[];
  sidecar: string;
  /** sha256 and size of the whole archive (the parts joined). */
  sha256: string;
  size: number;
}

const TAR_BLOCK = 512;

/**
 * Packs a finalised staging folder into one archive (or numbered parts) plus a sha256sum sidecar. Entries are
 * in the format's order (lists first, images last; by path bytes within a rank), with portable headers (uid/gid
 * 0, no names), a fixed mtime and fixed modes, so the same staging folder and mtime give the same bytes. Bytes
 * stream from disk through the compressor and a hasher to the output; nothing is held whole in memory.
 * Everything is written under temp names; the parts are renamed into place only when all are complete, and the
 * sidecar last. On failure or abort nothing that looks like a finished bundle is left.
 */
export async function packBundle(options: PackOptions): Promise<PackedBundle> {
  options.signal?.throwIfAborted();
  const stem = bundleStem(options.name, options.version);
  const archiveName = archiveFileName(options.name, options.version, options.compression);
  const ordered = (await walkFiles(options.stagingDir))
    .map((file, index) => ({ file, index, rank: entryRank(file.relative) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ file }) => file);
  const total =
    ordered.reduce((sum, f) => sum + TAR_BLOCK + Math.ceil(f.size / TAR_BLOCK) * TAR_BLOCK, 0) +
    2 * TAR_BLOCK;

  await mkdir(options.outDir, { recursive: true });
  const writer = new SplitWriter(options.outDir, archiveName, options.splitSize);
  const archive = tar.c(
    {
      cwd: options.stagingDir,
      prefix: stem,
      portable: true,
      mtime: options.mtime,
      noDirRecurse: true,
      strict: true,
      // node-tar reads up to 16 MiB at a time by default; 1 MiB reads keep the pack's memory flat.
      maxReadSize: 1024 * 1024,
      onWriteEntry: (entry) => {
        // Two modes only, whatever the staging folder's umask: 0755 for the importers and for files that were
        // executable (a stack's entrypoint or CGI scripts), 0644 for every other file.
        const importer = entry.path === IMPORT_SCRIPT || entry.path === IMPORTER_BUNDLE;
        const executable = importer || ((entry.stat?.mode ?? 0) & 0o111) !== 0;
        const fixed = executable ? 0o755 : 0o644;
        if (entry.stat) entry.stat.mode = (entry.stat.mode & ~0o7777) | fixed;
      },
    },
    ordered.map((f) => f.relative),
  ) as unknown as Readable;
  const sidecarPath = path.join(options.outDir, sidecarFileName(archiveName));
  let placed: string[] = [];
  try {
    await pipeline(
      archive,
      countBytes((n) => options.onProgress?.(Math.min(n, total), total)),
      createCompressor(options.compression, options.level),
      writer,
      ...(options.signal ? [{ signal: options.signal }] : []),
    );
    options.signal?.throwIfAborted();
    const sidecar = await stageSidecar(sidecarPath, await writer.files());
    try {
      const written = await writer.commit();
      placed = written.map((w) => w.file);
      options.signal?.throwIfAborted();
      await sidecar.place();
    } finally {
      await sidecar.discard();
    }
    const digest = writer.digest;
    return {
      archive: path.join(options.outDir, archiveName),
      parts: options.splitSize === undefined ? [] : placed,
      sidecar: sidecarPath,
      sha256: digest.sha256,
      size: digest.size,
    };
  } catch (error) {
    await Promise.all(placed.map((file) => rm(file, { force: true })));
    throw error;
  } finally {
    await writer.discard();
  }
}

/** A pass-through that reports the running byte count (progress of the uncompressed tar). */
function countBytes(report: (bytes: number) => void): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      report(bytes);
      callback(null, chunk);
    },
  });
}
