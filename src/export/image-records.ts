import type { BundleImage, ImageRole } from '../bundle/manifest.js';
import type { DockerEngine } from '../docker/engine.js';
import { OfflineError } from '../errors.js';

export interface ImageRequest {
  ref: string;
  role: ImageRole;
}

const ROLE_RANK: Record<ImageRole, number> = { service: 0, extra: 1, base: 2 };

/**
 * Inspects every requested ref and groups them by image ID: one record per image with every tag the bundle
 * gives it, its platform and size, and the strongest role (service over extra over base).
 */
export async function recordImages(
  engine: DockerEngine,
  requests: readonly ImageRequest[],
  archive: string,
): Promise<BundleImage[]> {
  const byId = new Map<string, BundleImage>();
  for (const { ref, role } of requests) {
    const info = await engine.inspectImage(ref);
    if (!info) throw new OfflineError('EDOCKER', `image ${ref} is not in the engine`, { file: ref });
    const known = byId.get(info.id);
    if (known) {
      if (!known.tags.includes(ref)) known.tags.push(ref);
      if (ROLE_RANK[role] < ROLE_RANK[known.role]) known.role = role;
      continue;
    }
    byId.set(info.id, {
      id: info.id,
      tags: [ref],
      os: info.os,
      architecture: info.architecture,
      ...(info.variant && { variant: info.variant }),
      size: info.size,
      role,
      archive,
    });
  }
  const records = [...byId.values()];
  for (const record of records) record.tags.sort();
  return records.sort(
    (a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role] || (a.tags[0] ?? '').localeCompare(b.tags[0] ?? ''),
  );
}

/** All tags of the records, for the one multi-image save (tags, not IDs, so `docker load` restores them). */
export function tagsOf(records: readonly BundleImage[]): string[] {
  return records.flatMap((r) => r.tags);
}
