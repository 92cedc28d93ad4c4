import path from 'node:path';
import { Readable } from 'node:stream';
import type { BundleManifest } from '../bundle/manifest.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { targetPathFor } from '../import/target-layout.js';
import { mapTag, type RegistryTarget } from './target.js';

export const OVERRIDE_FILE = 'docker-compose.registry.yml';

/**
 * A compose override whose services' `image:` name the pushed images in the registry; used as
 * `docker compose -f docker-compose.yml -f docker-compose.registry.yml pull` (then `up -d`), or as a second `-c`
 * of `docker stack deploy`. Carries the compose file's `version:` when it has one: compose v1 refuses to merge
 * files of different versions.
 */
export async function composeOverride(
  manifest: BundleManifest,
  references: Map<string, string>,
  composeText: string | undefined,
  registry: string,
): Promise<string> {
  // Loaded here, not at start-up (see src/fs/yaml.ts).
  const { default: YAML } = await import('yaml');
  const services: Record<string, { image: string }> = {};
  for (const service of manifest.services) {
    const reference = references.get(service.image);
    if (reference) services[service.name] = { image: reference };
  }
  const version = composeText
    ? (YAML.parse(composeText) as { version?: unknown } | null)?.version
    : undefined;
  const document = { ...(version !== undefined && { version: String(version) }), services };
  const head = [
    `# Written by offline for ${manifest.name} ${manifest.version}: the stack's images from ${registry}.`,
    `# docker compose -f ${manifest.compose.file.split('/').pop()} -f ${OVERRIDE_FILE} pull && ... up -d`,
  ];
  return `${head.join('\n')}\n${YAML.stringify(document)}`;
}

export async function writeComposeOverride(file: string, text: string): Promise<void> {
  await writeStreamAtomic(Readable.from([Buffer.from(text)]), file);
}

/**
 * For an import from a registry: the override naming each service's image where `offline push` put it (the
 * same mapping, mapTag), from the compose file's text; it goes beside the compose file (registryOverridePath).
 */
export function registryOverride(
  manifest: BundleManifest,
  composeText: string,
  registry: RegistryTarget,
  registryText: string,
): Promise<string> {
  const references = new Map(
    manifest.images.flatMap((image) =>
      image.tags.map((tag) => [tag, mapTag(tag, registry).reference] as const),
    ),
  );
  return composeOverride(manifest, references, composeText, registryText);
}

/** Where an import places the registry override: beside the compose file, as a POSIX path under the target. */
export function registryOverridePath(manifest: BundleManifest): string {
  return path.posix.join(path.posix.dirname(targetPathFor(manifest.compose.file)), OVERRIDE_FILE);
}
