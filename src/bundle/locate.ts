import { lstat, open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseChecksums } from '../checksum/sha256sum-format.js';
import { OfflineError } from '../errors.js';
import { detectCompression } from './compress.js';
import { CHECKSUMS_FILE, type Compression, MANIFEST_FILE } from './layout.js';

export interface BundleLocation {
  /** An archive (or its parts), or a folder extracted from one (manifest.json and checksums.sha256 at its top). */
  kind: 'archive' | 'folder';
  /** The archive's file name (the name parts join back to); for a folder, the folder's name. */
  archiveName: string;
  dir: string;
  /** The files to read, in order: the archive, or its parts. */
  parts: string[];
  /** sha256 of each file in `parts` from the sidecar, by base name; empty when there is no sidecar. */
  expected: Map<string, string>;
  sidecar?: string;
  compression: Compression;
  /** With `leadingParts`: the parts from the first missing one on (not in `parts`); otherwise empty. */
  absent: string[];
  /** The bytes a read takes from the media: the sizes of `parts` added up; undefined for a folder. */
  bytes?: number;
}

export interface LocateOptions {
  /**
   * Take the parts present up to the first missing one, instead of refusing a bundle with a part missing: for
   * reading only the head (inspect), while the other parts are still being copied.
   */
  leadingParts?: boolean;
}

const PART = /^(.*)\.part(\d+)$/;

/** Whether a file's name is that of an archive's part (`<archive>.part001`, ...). */
export function isPartFile(file: string): boolean {
  return PART.test(path.basename(file));
}

const ARCHIVE = /\.offline\.tar(\.gz|\.zst)?$/;

/**
 * Finds a bundle from what the user names: the archive, any of its parts, the folder holding them, or a folder
 * extracted from the archive (it holds manifest.json and checksums.sha256; read file by file). Reads the
 * sidecar (<archive>.sha256) when present; a part the sidecar lists but the folder lacks is named (EMISSING,
 * with its expected sha256), and so is a gap in the numbering.
 */
export async function locateBundle(input: string, options: LocateOptions = {}): Promise<BundleLocation> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new OfflineError('EMISSING', `${input}: no such bundle file or folder`, { file: input });
  if (info.isDirectory() && (await isExtractedBundle(input))) {
    const dir = path.resolve(input);
    return {
      kind: 'folder',
      archiveName: path.basename(dir),
      dir,
      parts: [],
      expected: new Map(),
      compression: 'none',
      absent: [],
    };
  }
  const dir = info.isDirectory() ? path.resolve(input) : path.dirname(path.resolve(input));
  const archiveName = info.isDirectory() ? await findArchiveName(dir) : archiveNameOf(path.basename(input));
  const sidecarPath = path.join(dir, `${archiveName}.sha256`);
  const sidecarText = await readFile(sidecarPath, 'utf8').catch(() => undefined);
  const expected = new Map<string, string>();
  if (sidecarText !== undefined) {
    const parsed = parseChecksums(sidecarText, sidecarPath);
    if (parsed.problems[0]) throw parsed.problems[0];
    for (const entry of parsed.entries) expected.set(entry.path, entry.sha256);
  }
  const names = expected.size > 0 ? [...expected.keys()].sort() : await namesOnDisk(dir, archiveName);
  const parts: string[] = [];
  const absent: string[] = [];
  let bytes = 0;
  for (const [index, name] of names.entries()) {
    const found = await partAt(dir, name, parts.length + 1, archiveName, expected);
    if (found instanceof OfflineError) {
      if (!options.leadingParts || parts.length === 0) throw found;
      absent.push(...new Set([found.file as string, ...names.slice(index)]));
      break;
    }
    parts.push(path.join(dir, name));
    bytes += found;
  }
  return {
    kind: 'archive',
    archiveName,
    dir,
    parts,
    expected,
    ...(sidecarText !== undefined && { sidecar: sidecarPath }),
    compression: await compressionOf(parts[0] as string),
    absent,
    bytes,
  };
}

/**
 * The size of part `name`, or the part missing at this place in the order: `name` itself (listed by the
 * sidecar but not here, with its expected sha256), or the part numbered before it (a gap in the numbering).
 */
async function partAt(
  dir: string,
  name: string,
  number: number,
  archiveName: string,
  expected: ReadonlyMap<string, string>,
): Promise<OfflineError | number> {
  const numbered = PART.exec(name)?.[2];
  if (numbered !== undefined && Number(numbered) !== number) {
    const gap = `${archiveName}.part${String(number).padStart(numbered.length, '0')}`;
    return new OfflineError('EMISSING', `${gap}: missing; copy it again`, { file: gap });
  }
  const info = await stat(path.join(dir, name)).catch(() => undefined);
  if (info?.isFile()) return info.size;
  return new OfflineError('EMISSING', `${name}: missing from ${dir}; copy it again`, {
    file: name,
    expected: expected.get(name) ?? 'the file',
    found: 'nothing',
  });
}

/** A folder that `tar xzf` of a bundle left: manifest.json and checksums.sha256 at its top. */
export async function isExtractedBundle(dir: string): Promise<boolean> {
  const isFile = async (name: string) =>
    (await lstat(path.join(dir, name)).catch(() => undefined))?.isFile() ?? false;
  return (await isFile(MANIFEST_FILE)) && (await isFile(CHECKSUMS_FILE));
}

function archiveNameOf(fileName: string): string {
  return PART.exec(fileName)?.[1] ?? fileName.replace(/\.sha256$/, '');
}

async function findArchiveName(dir: string): Promise<string> {
  const names = new Set((await readdir(dir)).map(archiveNameOf).filter((name) => ARCHIVE.test(name)));
  if (names.size === 1) return [...names][0] as string;
  throw new OfflineError(
    names.size === 0 ? 'EMISSING' : 'EUSAGE',
    names.size === 0
      ? `${dir}: holds no bundle (*.offline.tar.gz, *.offline.tar.zst, *.offline.tar or their parts)`
      : `${dir}: holds several bundles (${[...names].join(', ')}); name one`,
    { file: dir },
  );
}

async function namesOnDisk(dir: string, archiveName: string): Promise<string[]> {
  const all = await readdir(dir);
  if (all.includes(archiveName)) return [archiveName];
  const parts = all.filter((name) => PART.exec(name)?.[1] === archiveName).sort();
  if (parts.length === 0) {
    throw new OfflineError('EMISSING', `${archiveName}: not found in ${dir}, nor any of its parts`, {
      file: archiveName,
    });
  }
  return parts;
}

async function compressionOf(file: string): Promise<Compression> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 ? detectCompression(head) : 'none';
  } finally {
    await handle.close();
  }
}
