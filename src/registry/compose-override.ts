import path from 'node:path';
import { Readable } from 'node:stream';
import type { BundleManifest } from '../bundle/manifest.js';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { targetPathFor } from '../import/target-layout.js';
import { mapTag, normalizeReference, type RegistryTarget, sameTarget } from './target.js';

export const OVERRIDE_FILE = 'docker-compose.registry.yml';

/**
 * Where each service's image is in the registry, by service name: the bundle image the service's `image:` names
 * (compared as Docker normalises names, so `docker.io/library/x:1` is `x:1`), mapped by mapTag as push maps it.
 * A service whose image the bundle lacks, or two images of the bundle under one registry name, is EFORMAT: the
 * override would name an image that is not there, or the wrong one.
 */
export function serviceReferences(manifest: BundleManifest, target: RegistryTarget): Map<string, string> {
  const images = new Map<string, string>();
  for (const image of manifest.images) {
    for (const tag of image.tags) images.set(normalizeReference(tag), image.id);
  }
  const references = new Map<string, string>();
  const imageOf = new Map<string, { id: string; source: string }>();
  for (const service of manifest.services) {
    const id = images.get(normalizeReference(service.image));
    if (id === undefined) {
      throw new OfflineError(
        'EFORMAT',
        `service ${service.name}: its image ${service.image} is not among the bundle's images`,
        { file: service.image, hint: 'export the bundle again' },
      );
    }
    const { reference } = mapTag(service.image, target);
    const other = imageOf.get(reference);
    if (other && other.id !== id) throw sameTarget(reference, other.source, service.image);
    imageOf.set(reference, { id, source: service.image });
    references.set(service.name, reference);
  }
  return references;
}

/**
 * The compose override whose services' `image:` name the pushed images in the registry (serviceReferences), used
 * as `docker compose -f docker-compose.yml -f docker-compose.registry.yml pull` (then `up -d`), or as a second `-c`
 * of `docker stack deploy`. Carries the compose file's `version:` when it has one: compose v1 refuses to merge
 * files of different versions. Push and import --registry both write it.
 */
export async function registryOverride(
  manifest: BundleManifest,
  composeText: string | undefined,
  target: RegistryTarget,
  registryText: string,
): Promise<string> {
  const references = serviceReferences(manifest, target);
  // Loaded here, not at start-up (see src/fs/yaml.ts).
  const { default: YAML } = await import('yaml');
  const services = Object.fromEntries([...references].map(([name, image]) => [name, { image }]));
  const version = composeText
    ? (YAML.parse(composeText) as { version?: unknown } | null)?.version
    : undefined;
  const document = { ...(version !== undefined && { version: String(version) }), services };
  const head = [
    `# Written by offline for ${manifest.name} ${manifest.version}: the stack's images from ${registryText}.`,
    `# docker compose -f ${manifest.compose.file.split('/').pop()} -f ${OVERRIDE_FILE} pull && ... up -d`,
  ];
  return `${head.join('\n')}\n${YAML.stringify(document)}`;
}

export async function writeComposeOverride(file: string, text: string): Promise<void> {
  await writeStreamAtomic(Readable.from([Buffer.from(text)]), file);
}

/** Where an import places the registry override: beside the compose file, as a POSIX path under the target. */
export function registryOverridePath(manifest: BundleManifest): string {
  return path.posix.join(path.posix.dirname(targetPathFor(manifest.compose.file)), OVERRIDE_FILE);
}
