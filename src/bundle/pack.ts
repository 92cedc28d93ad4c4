import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { formatChecksums } from '../checksum/sha256sum-format.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { walkFiles } from '../fs/walk.js';
import { createCompressor } from './compress.js';
import { archiveFileName, bundleStem, type Compression, entryRank, sidecarFileName } from './layout.js';
import { PartWriter } from './part-writer.js';

export { parseSize } from './size.js';

export interface PackOptions {
  stagingDir: string;
  outDir: string;
  name: string;
  version: string;
  compression: Compression;
  level?: number;
  /** Bytes per part; undefined: one archive file. */
  splitSize?: number;
  /** mtime of every entry: SOURCE_DATE_EPOCH or the manifest's createdAt. */
  mtime: Date;
  /** Called with the uncompressed bytes packed so far. */
  onProgress?: (bytes: number, total: number) => void;
  signal?: AbortSignal;
}

export interface PackedBundle {
  /** The archive's path (when split, the name the parts join back to; that file does not exist). */
  archive: string;
  parts: string[];
  sidecar: string;
  /** sha256 and size of the whole archive. */
  sha256: string;
  size: number;
}

/**
 * Packs a finalised staging folder into one archive (or numbered parts) plus a sha256sum sidecar. Entries are
 * in the format's order (lists first, images last), with portable headers, a fixed mtime and fixed modes, so the
 * same staging folder and mtime give the same bytes. Bytes stream from disk through the compressor to the
 * output, hashed on the way. Output goes to temp names, renamed when complete; the sidecar is written last.
 * On failure or abort nothing that looks like a finished bundle is left.
 */
export async function packBundle(options: PackOptions): Promise<PackedBundle> {
  const stem = bundleStem(options.name, options.version);
  const archiveName = archiveFileName(options.name, options.version, options.compression);
  const files = await walkFiles(options.stagingDir);
  const ordered = files
    .map((file, index) => ({ file, index, rank: entryRank(file.relative) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ file }) => file);
  const total = ordered.reduce((sum, f) => sum + f.size, 0);

  const writer = new PartWriter(options.outDir, archiveName, options.splitSize);
  const archive = tar.c(
    {
      cwd: options.stagingDir,
      prefix: stem,
      portable: true,
      mtime: options.mtime,
      noDirRecurse: true,
      strict: true,
    },
    ordered.map((f) => f.relative),
  ) as unknown as Readable;
  try {
    await pipeline(
      archive,
      countBytes((n) => options.onProgress?.(n, total)),
      createCompressor(options.compression, options.level),
      writer,
      {
        ...(options.signal && { signal: options.signal }),
      },
    );
    const written = await writer.commit();
    const digest = writer.digest;
    const sidecar = path.join(options.outDir, sidecarFileName(archiveName));
    const listed = written.map((w) => ({ path: path.basename(w.file), sha256: w.sha256 }));
    try {
      await writeStreamAtomic(Readable.from([formatChecksums(listed)]), sidecar);
    } catch (error) {
      await Promise.all(written.map((w) => rm(w.file, { force: true })));
      throw error;
    }
    return {
      archive: path.join(options.outDir, archiveName),
      parts: options.splitSize === undefined ? [] : written.map((w) => w.file),
      sidecar,
      sha256: digest.sha256,
      size: digest.size,
    };
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
