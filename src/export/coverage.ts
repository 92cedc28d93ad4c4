import type { BundleImage } from '../bundle/manifest.js';
import type { ComposeProject } from '../compose/model.js';
import { OfflineError } from '../errors.js';
import { defaultImageNames, withTag } from './options.js';

/**
 * The last check before packing: every image the compose file references (every service of every included
 * profile) and every extra image is in the images archive under the name compose will look for.
 */
export function assertImagesCovered(
  compose: ComposeProject,
  project: string,
  extras: readonly string[],
  images: readonly BundleImage[],
): void {
  const tags = new Set(images.flatMap((i) => i.tags));
  const missing: string[] = [];
  for (const service of compose.services) {
    const wanted = service.image ? [withTag(service.image)] : defaultImageNames(project, service.name);
    for (const ref of wanted) if (!tags.has(ref)) missing.push(`${ref} (service ${service.name})`);
  }
  for (const ref of extras) if (!tags.has(withTag(ref))) missing.push(`${ref} (extra image)`);
  if (missing.length > 0) {
    throw new OfflineError('EMISSING', `the bundle lacks ${missing.length} image(s): ${missing.join(', ')}`, {
      file: compose.file,
      found: missing.join(', '),
    });
  }
}
