import type { BundleManifest, GeneratedValue } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { cacheFileName, canonicalUrl } from '../../src/tiktoken/cache-name.js';
import { requireDocker, uniqueName } from './docker.js';

/** The cl100k_base cache file's name, as bundle-fixture stores it under tiktoken/. */
export const CL100K = cacheFileName(canonicalUrl('/encodings/cl100k_base.tiktoken'));

/**
 * The stack the import tests run: one service, web, in the profile "web" (every profile the manifest records is
 * started), that does not start without the tiktoken cache mounted at /tiktoken from `mountFrom`, as the
 * example stacks mount it (bundles/demo, openai-gateway, agent-platform).
 */
export function webCompose(image: string, mountFrom: string, environment: string[] = []): string {
  return [
    'version: "2.4"',
    'services:',
    '  web:',
    `    image: ${image}`,
    '    profiles: ["web"]',
    `    command: ["sh", "-c", "test -s /tiktoken/${CL100K} && exec httpd -f -p 8080 -h /"]`,
    ...(environment.length > 0 ? ['    environment:', ...environment.map((line) => `      ${line}`)] : []),
    '    volumes:',
    `      - ${mountFrom}:/tiktoken:ro`,
    '',
  ].join('\n');
}

/** The manifest of a bundle of webCompose: its profile and service, the env template stack/.env.example. */
export function webManifest(
  m: Omit<BundleManifest, 'files'>,
  image: string,
  generate: Record<string, GeneratedValue> = {},
): Omit<BundleManifest, 'files'> {
  return {
    ...m,
    compose: { ...m.compose, profiles: ['web'] },
    services: [{ name: 'web', image, built: false, healthcheck: false, profiles: ['web'] }],
    env: { template: 'stack/.env.example', generate },
  };
}

/** The image webCompose runs: the test base image tagged offline-test/<project>:1, for a fresh project name. */
export async function webImage(
  prefix: string,
): Promise<{ engine: DockerEngine; project: string; image: string }> {
  const docker = await requireDocker();
  const project = uniqueName(prefix);
  const image = `offline-test/${project}:1`;
  const [repo, tag] = image.split(':') as [string, string];
  await docker.engine.tagImage(docker.baseImage, repo, tag);
  return { engine: docker.engine, project, image };
}
