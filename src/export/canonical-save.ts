import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';

const BLOCK = 512;

interface TarEntry {
  header: Buffer;
  name: string;
  type: string;
  linkname: string;
  size: number;
  /** Where the entry's data starts in the file. */
  dataOffset: number;
}

function field(header: Buffer, start: number, length: number): string {
  return header
    .subarray(start, start + length)
    .toString('utf8')
    .replace(/\0.*$/s, '');
}

function entrySize(header: Buffer): number {
  const raw = header.subarray(124, 136);
  if ((raw[0] ?? 0) & 0x80) {
    let size = 0;
    for (let i = 1; i < raw.length; i++) size = size * 256 + (raw[i] ?? 0);
    return size;
  }
  const text = field(header, 124, 12).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/** Every entry's header and where its data sits; reads only the headers. */
async function indexTar(file: FileHandle): Promise<{ entries: TarEntry[]; end: number; length: number }> {
  const { size: length } = await file.stat();
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= length) {
    const header = Buffer.alloc(BLOCK);
    await file.read(header, 0, BLOCK, offset);
    if (header.every((b) => b === 0)) break;
    const prefix = field(header, 257, 6) === 'ustar' ? field(header, 345, 155) : '';
    const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const size = entrySize(header);
    entries.push({
      header,
      name: name.replace(/^\.\//, ''),
      type: String.fromCharCode(header[156] || 0x30),
      linkname: field(header, 157, 100),
      size,
      dataOffset: offset + BLOCK,
    });
    offset += BLOCK + padded(size);
  }
  return { entries, end: offset, length };
}

function withFields(
  template: Buffer,
  changes: { name?: string; size?: number; linkname?: string },
  mtime: number,
) {
  const header = Buffer.from(template);
  if (changes.name !== undefined) {
    header.fill(0, 0, 100);
    header.fill(0, 345, 500);
    header.write(changes.name, 0, 100, 'utf8');
  }
  if (changes.linkname !== undefined) {
    header.fill(0, 157, 257);
    header.write(changes.linkname, 157, 100, 'utf8');
  }
  if (changes.size !== undefined)
    header.write(`${changes.size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write(`${mtime.toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

/** Image lists sorted by config / digest, so their order does not depend on the engine's map order. */
function canonicalJson(name: string, text: string): string | undefined {
  const data = JSON.parse(text) as unknown;
  if (name === 'manifest.json' && Array.isArray(data)) {
    const key = (m: { Config?: string }) => m.Config ?? '';
    return JSON.stringify([...data].sort((a, b) => key(a).localeCompare(key(b))));
  }
  if (name === 'index.json' && Array.isArray((data as { manifests?: unknown }).manifests)) {
    const index = data as { manifests: { digest?: string }[] };
    index.manifests.sort((a, b) => (a.digest ?? '').localeCompare(b.digest ?? ''));
    return JSON.stringify(index);
  }
  return undefined;
}

/** The JSON lists (manifest.json, index.json) made canonical; a larger one is copied as it is. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * The load order (docs/bundle-format.md section 2): manifest.json, then every image's config, then each image's
 * layer folders in chain order (an image's layers in the order it stacks them, images in manifest order, a
 * folder once), then the rest as the engine wrote it. An importer can then plan several load requests from the
 * head of the stream and hand the engine a shared base while the rest still streams. Only for the legacy layout
 * without linked layer files (Docker 20.10-24, no image layer shared at two chain positions); any other
 * archive keeps the engine's order, which importers load in one request.
 */
function loadOrder(entries: TarEntry[], manifestText: string | undefined): TarEntry[] {
  const linked = entries.some((e) => e.name.endsWith('/layer.tar') && e.type !== '0' && e.type !== '\0');
  const oci = entries.some((e) => e.name === 'index.json' || e.name === 'oci-layout');
  if (manifestText === undefined || linked || oci) return entries;
  const images = JSON.parse(manifestText) as { Config?: string; Layers?: string[] }[];
  const picked = new Set<TarEntry>();
  const order: TarEntry[] = [];
  const take = (entry: TarEntry | undefined) => {
    if (entry && !picked.has(entry)) {
      picked.add(entry);
      order.push(entry);
    }
  };
  const byName = new Map(entries.map((e) => [e.name, e]));
  take(byName.get('manifest.json'));
  for (const image of images) take(byName.get(image.Config ?? ''));
  for (const image of images) {
    for (const layer of image.Layers ?? []) {
      const folder = `${path.posix.dirname(layer)}/`;
      for (const entry of entries) if (entry.name.startsWith(folder)) take(entry);
    }
  }
  for (const entry of entries) take(entry);
  return order;
}

/** `length` bytes of `source` from `start`, streamed. */
function range(source: string, start: number, length: number): Iterable<Buffer> | AsyncIterable<Buffer> {
  return length === 0
    ? []
    : createReadStream(source, { start, end: start + length - 1, highWaterMark: 1024 * 1024 });
}

/** A small entry's bytes as text. */
async function readText(source: string, entry: TarEntry): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of range(source, entry.dataOffset, entry.size)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Where a symlinked layer points, as an archive path (`../X/layer.tar` from `Y/layer.tar` -> `X/layer.tar`). */
function linkTarget(entry: TarEntry): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(entry.name), entry.linkname));
}

/**
 * Rewrites a `docker save` archive so that two saves of the same images give the same bytes: the engine lists
 * images in map order and, when images share a layer, stores the file under whichever image came first and a
 * symlink elsewhere. Here the images list is sorted, each shared layer's file sits in the first folder (in
 * archive order) and the others link to it, and every mtime is `mtime`; entries come in load order (loadOrder).
 * Everything else is copied byte for byte, streamed from `source` (never held in memory but for the small JSON
 * lists).
 */
export async function* canonicalSave(source: string, mtime: Date): AsyncGenerator<Buffer> {
  const seconds = Math.floor(mtime.getTime() / 1000);
  const file = await open(source, 'r');
  let index: Awaited<ReturnType<typeof indexTar>>;
  try {
    index = await indexTar(file);
  } finally {
    await file.close();
  }
  const byName = new Map(index.entries.map((e) => [e.name, e]));
  const manifestEntry = byName.get('manifest.json');
  const manifestText =
    manifestEntry && manifestEntry.size < MAX_JSON_BYTES
      ? canonicalJson('manifest.json', await readText(source, manifestEntry))
      : undefined;
  const entries = loadOrder(index.entries, manifestText);
  // Layer files and their symlinks, grouped by the real file they resolve to.
  const realOf = (entry: TarEntry): TarEntry | undefined => {
    let current: TarEntry | undefined = entry;
    for (let hops = 0; current?.type === '2' && hops < 8; hops++) current = byName.get(linkTarget(current));
    return current?.type === '0' || current?.type === '\0' ? current : undefined;
  };
  const holder = new Map<TarEntry, TarEntry>(); // real file -> first entry (archive order) that resolves to it
  const linkTemplate = new Map<TarEntry, TarEntry>();
  for (const entry of entries) {
    if (!entry.name.endsWith('/layer.tar') || (entry.type !== '0' && entry.type !== '2')) continue;
    const real = realOf(entry);
    if (!real) continue;
    if (!holder.has(real)) holder.set(real, entry);
    if (entry.type === '2') linkTemplate.set(real, entry);
  }
  for (const entry of entries) {
    const real = entry.name.endsWith('/layer.tar') ? realOf(entry) : undefined;
    const first = real ? holder.get(real) : undefined;
    if (real && first && (entry.type === '0' || entry.type === '2')) {
      if (entry === first) {
        yield withFields(real.header, { name: entry.name }, seconds);
        yield* range(source, real.dataOffset, padded(real.size));
      } else {
        const template = linkTemplate.get(real) ?? entry;
        const linkname = path.posix.relative(path.posix.dirname(entry.name), first.name);
        yield withFields(template.header, { name: entry.name, linkname, size: 0 }, seconds);
      }
      continue;
    }
    if ((entry.name === 'manifest.json' || entry.name === 'index.json') && entry.size < MAX_JSON_BYTES) {
      const text =
        entry === manifestEntry ? manifestText : canonicalJson(entry.name, await readText(source, entry));
      if (text !== undefined) {
        const bytes = Buffer.from(text, 'utf8');
        yield withFields(entry.header, { size: bytes.length }, seconds);
        yield Buffer.concat([bytes, Buffer.alloc(padded(bytes.length) - bytes.length)]);
        continue;
      }
    }
    yield withFields(entry.header, {}, seconds);
    yield* range(source, entry.dataOffset, padded(entry.size));
  }
  yield* range(source, index.end, index.length - index.end);
}
