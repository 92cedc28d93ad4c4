import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ComposeBuild, ComposeProject, ComposeService } from '../compose/model.js';
import { assertImageOrBuild } from '../compose/normalize.js';
import { OfflineError } from '../errors.js';
import { type DockerfileInfo, parseDockerfile } from './dockerfile-stages.js';
import { defaultImageNames, type ExportOptions, withTag } from './options.js';

export interface PlannedBuild {
  service: string;
  build: ComposeBuild;
  /** Every tag the built image gets; the first is the one compose uses. */
  tags: string[];
  dockerfile: DockerfileInfo;
}

export interface PlannedService {
  name: string;
  image: string;
  built: boolean;
  healthcheck: boolean;
  profiles: string[];
}

export interface ExportPlan {
  services: PlannedService[];
  builds: PlannedBuild[];
  /** Images to pull (or find locally) for services, sorted and unique. */
  pulls: string[];
  /** Extra images from the definition. */
  extras: string[];
  /** FROM bases of the built services (only with build caches). */
  bases: string[];
}

async function readDockerfile(
  service: string,
  build: ComposeBuild,
  composeFile: string,
): Promise<DockerfileInfo> {
  const file = path.resolve(build.context, build.dockerfile);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new OfflineError(
      'ECOMPOSE',
      `service "${service}": cannot read its Dockerfile ${file} (${error.code})`,
      {
        file: composeFile,
        found: file,
      },
    );
  });
  return parseDockerfile(text, build.args);
}

function planService(service: ComposeService, options: ExportOptions): string[] {
  if (service.image) return [withTag(service.image)];
  return defaultImageNames(options.project, service.name);
}

/** Every image the stack needs; refuses a service with neither image nor build before anything starts. */
export async function planExport(compose: ComposeProject, options: ExportOptions): Promise<ExportPlan> {
  const services: PlannedService[] = [];
  const builds: PlannedBuild[] = [];
  const pulls = new Set<string>();
  assertImageOrBuild(compose.services, compose.file);
  const tagsOf = compose.services.map((service) => planService(service, options));
  for (const [index, service] of compose.services.entries()) {
    const tags = tagsOf[index] ?? [];
    const image = tags[0] ?? '';
    services.push({
      name: service.name,
      image,
      built: Boolean(service.build),
      healthcheck: service.healthcheck,
      profiles: service.profiles,
    });
    if (service.build) {
      const dockerfile = await readDockerfile(service.name, service.build, compose.file);
      builds.push({ service: service.name, build: service.build, tags, dockerfile });
    } else pulls.add(image);
  }
  const builtTags = new Set(builds.flatMap((b) => b.tags));
  const bases = options.buildCache
    ? [...new Set(builds.flatMap((b) => b.dockerfile.bases.map(withTag)))]
    : [];
  return {
    services,
    builds,
    pulls: [...pulls].filter((ref) => !builtTags.has(ref)).sort(),
    extras: [...new Set(options.extraImages.map(withTag))]
      .filter((r) => !pulls.has(r) && !builtTags.has(r))
      .sort(),
    bases: bases.filter((r) => !builtTags.has(r)).sort(),
  };
}
