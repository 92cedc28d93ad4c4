import { createHash } from 'node:crypto';
import { OfflineError } from '../errors.js';

/** One image of a `docker save` archive's manifest.json. */
export interface SaveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** One `POST /images/load` of a pipelined load: a small archive of its own. */
export interface LoadRequest {
  /** The image config's archive path and bytes (read from the archive, or made up for a shared base). */
  config: { path: string; bytes?: Buffer };
  /** The layer files this request carries (each layer travels in exactly one request). */
  layers: string[];
  /** This request's manifest.json: the image with every layer it stacks, carried here or not. */
  entry: SaveManifestEntry;
  /** Requests (by index) whose load must finish before this one's archive is closed: they carry its other layers. */
  after: number[];
}

export interface LoadPlan {
  requests: LoadRequest[];
  /** The made-up images holding shared bases (IDs without `sha256:`), removed again after the load. */
  baseImageIds: string[];
}

/**
 * Splits a save into load requests (docs/bundle-format.md section 2). The engine unpacks a load's whole archive
 * before it registers any layer, one layer after another, so one request keeps it idle while the archive streams
 * and registers every image in turn. Here every base that images branch from goes first: where two or more
 * images share a chain of layers and then part ways, that chain loads in a request of its own, as an image
 * made up from the first such image's config (the engine checks each layer against the config's diff_ids),
 * unless an image ends right there and is that base itself. Each image then loads in its own request, closed
 * only after the requests carrying its other layers finished, so its archive streams while its base is
 * registered, and images that share a base register side by side. A stack of several families (a database
 * beside apps on one Python base) gets one base per family.
 */
export function planLoad(images: SaveManifestEntry[], configs: Map<string, Buffer>): LoadPlan {
  const requests: LoadRequest[] = [];
  const carrier = new Map<string, number>();
  const add = (config: LoadRequest['config'], entry: SaveManifestEntry) => {
    const index = requests.length;
    const layers = entry.Layers.filter((l) => !carrier.has(l));
    const after = [
      ...new Set(entry.Layers.flatMap((l) => (carrier.has(l) ? [carrier.get(l) as number] : []))),
    ];
    for (const layer of layers) carrier.set(layer, index);
    requests.push({ config, layers, entry, after });
  };
  const baseImageIds: string[] = [];
  const bases = branchPoints(images);
  // Shorter bases first, so each stacks on the ones before it; an image that is a base itself goes in its turn.
  for (const base of bases) {
    if (base.by) {
      add({ path: base.by.Config }, base.by);
      continue;
    }
    const config = baseConfig(configs.get(base.from.Config), base.chain.length);
    const id = createHash('sha256').update(config).digest('hex');
    baseImageIds.push(id);
    add({ path: `${id}.json`, bytes: config }, { Config: `${id}.json`, RepoTags: null, Layers: base.chain });
  }
  for (const image of images) if (!bases.some((b) => b.by === image)) add({ path: image.Config }, image);
  return { requests, baseImageIds };
}

interface BranchPoint {
  /** The layers from the bottom up to where the images part. */
  chain: string[];
  /** The first image (in manifest order) that stacks the chain: the made-up config comes from its config. */
  from: SaveManifestEntry;
  /** An image whose layers are exactly the chain, if there is one: it is the base, nothing is made up. */
  by?: SaveManifestEntry;
}

/**
 * The chains of layers where two or more images part ways (go on with different layers, or one stops there),
 * shortest first. A chain the images share but all go on from with the same next layer is not one.
 */
function branchPoints(images: SaveManifestEntry[]): BranchPoint[] {
  const points: BranchPoint[] = [];
  const visit = (chain: string[], group: SaveManifestEntry[]) => {
    const depth = chain.length;
    const ends = group.filter((i) => i.Layers.length === depth);
    const next = new Map<string, SaveManifestEntry[]>();
    for (const image of group) {
      const layer = image.Layers[depth];
      if (layer !== undefined) next.set(layer, [...(next.get(layer) ?? []), image]);
    }
    if (depth > 0 && group.length > 1 && next.size + Math.min(ends.length, 1) > 1) {
      points.push({ chain, from: group[0] as SaveManifestEntry, ...(ends[0] && { by: ends[0] }) });
    }
    for (const [layer, members] of next) visit([...chain, layer], members);
  };
  visit([], images);
  return points.sort((a, b) => a.chain.length - b.chain.length);
}

/** A config for the first `layers` of an image: its platform and those layers' diff_ids, nothing else. */
function baseConfig(config: Buffer | undefined, layers: number): Buffer {
  const parsed = JSON.parse(config?.toString('utf8') ?? '{}') as {
    architecture?: string;
    os?: string;
    rootfs?: { diff_ids?: string[] };
  };
  const diffIds = parsed.rootfs?.diff_ids?.slice(0, layers) ?? [];
  if (diffIds.length !== layers) {
    throw new OfflineError('EFORMAT', 'images/images.tar: an image config lists fewer diff_ids than layers', {
      file: 'images/images.tar',
    });
  }
  return Buffer.from(
    JSON.stringify({
      architecture: parsed.architecture,
      os: parsed.os,
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
}
