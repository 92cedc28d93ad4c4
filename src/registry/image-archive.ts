import { createWriteStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { HashStream } from '../checksum/hash-stream.js';
import { OfflineError } from '../errors.js';

/** One file of the image archive, spooled to disk and hashed on the way. */
export interface SpooledBlob {
  file: string;
  /** sha256 of the bytes as stored (the registry's blob digest), lower-case hex. */
  sha256: string;
  size: number;
  compression: 'none' | 'gzip';
}

export interface ArchiveImage {
  /** sha256 of the config JSON = the image ID, hex. */
  id: string;
  config: SpooledBlob;
  layers: SpooledBlob[];
  tags: string[];
}

const MAX_MANIFEST = 16 * 1024 * 1024;

/**
 * Reads a `docker save` archive (Docker 20.10 legacy layout or 25+ OCI layout; both have manifest.json with
 * Config, RepoTags, Layers) from its stream once, spooling every regular file into `dir` under a numbered name
 * while hashing it, so layers are never held in memory and each gets its digest without a second read.
 * Symbolic and hard links (a shared layer stored once) are resolved inside the archive. The config's sha256 must
 * match its name and, for uncompressed layers, each layer's sha256 its diff_id in the config.
 */
export async function spoolImageArchive(
  stream: Readable,
  dir: string,
  label: string,
): Promise<ArchiveImage[]> {
  const files = new Map<string, SpooledBlob>();
  const links = new Map<string, string>();
  let count = 0;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const handle = async (entry: tar.ReadEntry): Promise<void> => {
    const name = path.posix.normalize(entry.path).replace(/^\.\//, '').replace(/\/$/, '');
    if (entry.type === 'SymbolicLink' && entry.linkpath) {
      links.set(name, path.posix.normalize(path.posix.join(path.posix.dirname(name), entry.linkpath)));
    } else if (entry.type === 'Link' && entry.linkpath) {
      links.set(name, path.posix.normalize(entry.linkpath));
    }
    if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
      return void entry.resume();
    }
    const file = path.join(dir, `blob-${++count}`);
    const hasher = new HashStream();
    await pipeline(entry, hasher, createWriteStream(file, { flags: 'wx' }));
    files.set(name, { file, ...hasher.digest, compression: await sniffCompression(file) });
  };
  const parser = new tar.Parser({ strict: true });
  parser.on('entry', (entry: tar.ReadEntry) => {
    chain = chain
      .then(() => (failure === undefined ? handle(entry) : void entry.resume()))
      .catch((error) => {
        failure ??= error;
        entry.resume();
      });
  });
  await pipeline(stream, parser);
  await chain;
  if (failure !== undefined) throw failure;

  const resolve = (name: string): SpooledBlob => {
    let current = path.posix.normalize(name);
    for (let hops = 0; hops < 16 && !files.has(current); hops++) {
      const next = links.get(current);
      if (!next) break;
      current = next;
    }
    const found = files.get(current);
    if (!found) {
      throw new OfflineError('EFORMAT', `${label}: manifest.json names "${name}", which the archive lacks`, {
        file: label,
        expected: name,
      });
    }
    return found;
  };
  const manifestBlob = files.get('manifest.json');
  if (!manifestBlob || manifestBlob.size > MAX_MANIFEST) {
    throw new OfflineError('EFORMAT', `${label}: not a docker save archive (no manifest.json)`, {
      file: label,
    });
  }
  const entries = JSON.parse(await readFile(manifestBlob.file, 'utf8')) as {
    Config: string;
    RepoTags: string[] | null;
    Layers: string[];
  }[];
  const images: ArchiveImage[] = [];
  for (const entry of entries) {
    const config = resolve(entry.Config);
    const id = path.posix.basename(entry.Config).replace(/\.json$/, '');
    if (/^[0-9a-f]{64}$/.test(id) && id !== config.sha256) {
      throw new OfflineError('EINTEGRITY', `${label}: config ${entry.Config} does not hash to its name`, {
        file: `${label}:${entry.Config}`,
        expected: id,
        found: config.sha256,
      });
    }
    const layers = entry.Layers.map(resolve);
    await checkDiffIds(config, layers, `${label}:${entry.Config}`);
    images.push({ id: config.sha256, config, layers, tags: entry.RepoTags ?? [] });
  }
  return images;
}

async function checkDiffIds(config: SpooledBlob, layers: SpooledBlob[], label: string): Promise<void> {
  const parsed = JSON.parse(await readFile(config.file, 'utf8')) as { rootfs?: { diff_ids?: string[] } };
  const diffIds = parsed.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new OfflineError('EFORMAT', `${label}: ${layers.length} layers but ${diffIds.length} diff_ids`, {
      file: label,
      expected: diffIds.length,
      found: layers.length,
    });
  }
  layers.forEach((layer, i) => {
    if (layer.compression === 'none' && diffIds[i] !== `sha256:${layer.sha256}`) {
      throw new OfflineError('EINTEGRITY', `${label}: layer ${i + 1} does not match its diff_id`, {
        file: label,
        expected: diffIds[i] ?? '',
        found: `sha256:${layer.sha256}`,
      });
    }
  });
}

async function sniffCompression(file: string): Promise<'none' | 'gzip'> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : 'none';
  } finally {
    await handle.close();
  }
}
