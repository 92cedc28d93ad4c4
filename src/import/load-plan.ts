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
  /** The made-up image holding the shared base, removed again after the load. */
  baseImageId?: string;
}

/**
 * Splits a save into load requests (docs/bundle-format.md section 2). The engine unpacks a load's whole archive
 * before it registers any layer, one layer after another, so one request keeps it idle while the archive streams
 * and registers every image in turn. Here the layers every image shares go first, as an image of their own made
 * up from the first config (the engine checks each layer against the config's diff_ids); every image then loads
 * in its own request, closed only after the requests carrying its other layers finished, so its archive streams
 * while the base is registered and the images register side by side.
 */
export function planLoad(images: SaveManifestEntry[], configs: Map<string, Buffer>): LoadPlan {
  const shared = commonPrefix(images.map((i) => i.Layers));
  const requests: LoadRequest[] = [];
  const carrier = new Map<string, number>();
  let baseImageId: string | undefined;
  const first = images[0];
  const baseIsAnImage = images.some((i) => i.Layers.length === shared.length);
  if (first && images.length > 1 && shared.length > 0 && !baseIsAnImage) {
    const config = baseConfig(configs.get(first.Config), shared.length);
    baseImageId = createHash('sha256').update(config).digest('hex');
    const path = `${baseImageId}.json`;
    requests.push({
      config: { path, bytes: config },
      layers: shared,
      entry: { Config: path, RepoTags: null, Layers: shared },
      after: [],
    });
    for (const layer of shared) carrier.set(layer, 0);
  }
  // An image that is the shared base itself goes first, so the others can stack on it.
  const ordered = [...images].sort(
    (a, b) => Number(b.Layers.length === shared.length) - Number(a.Layers.length === shared.length),
  );
  for (const image of ordered) {
    const index = requests.length;
    const layers = image.Layers.filter((l) => !carrier.has(l));
    const after = [
      ...new Set(image.Layers.flatMap((l) => (carrier.has(l) ? [carrier.get(l) as number] : []))),
    ];
    for (const layer of layers) carrier.set(layer, index);
    requests.push({ config: { path: image.Config }, layers, entry: image, after });
  }
  return { requests, ...(baseImageId && { baseImageId }) };
}

function commonPrefix(lists: string[][]): string[] {
  const [head, ...rest] = lists;
  if (!head) return [];
  let length = head.length;
  for (const list of rest) {
    let same = 0;
    while (same < length && list[same] === head[same]) same++;
    length = same;
  }
  return head.slice(0, length);
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
