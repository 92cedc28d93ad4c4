import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSize } from '../../src/bundle/size.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { cacheFileName, canonicalUrl } from '../../src/tiktoken/cache-name.js';
import { extractFixture, type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { removeComposeProject, removeImages, requireDocker, uniqueName } from '../support/docker.js';

// The manual import path of the README.txt, run with the real tools: GNU tar, coreutils, docker, docker-compose.
let engine: DockerEngine;
let project: string;
let image: string;
const fixtures: Fixture[] = [];
/** The cl100k_base cache file's name, as bundle-fixture stores it under tiktoken/. */
const CL100K = cacheFileName(canonicalUrl('/encodings/cl100k_base.tiktoken'));
const TIKTOKEN_FILE = 'IQ== 0\n';

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  project = uniqueName('manual');
  image = `offline-test/${project}:1`;
  const [repo, tag] = image.split(':') as [string, string];
  await engine.tagImage(docker.baseImage, repo, tag);
});

afterAll(async () => {
  removeComposeProject(project);
  await removeImages(engine, [image]);
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

async function bundle(splitSize?: number): Promise<Fixture> {
  const fixture = await makeBundle({
    name: project,
    engine,
    images: [image],
    files: {
      // As the example stacks do (bundles/demo, openai-gateway, agent-platform): the tiktoken cache mounted from
      // ./tiktoken beside the compose file, and a service that does not start without it. The service is in a
      // profile, as every profile the manifest records is started.
      'stack/docker-compose.yml': [
        'version: "2.4"',
        'services:',
        '  web:',
        `    image: ${image}`,
        '    profiles: ["web"]',
        `    command: ["sh", "-c", "test -s /tiktoken/${CL100K} && exec httpd -f -p 8080 -h /"]`,
        '    environment:',
        `      MODE: \${MODE}`,
        '      TIKTOKEN_CACHE_DIR: /tiktoken',
        '    volumes:',
        '      - ./tiktoken:/tiktoken:ro',
        '',
      ].join('\n'),
      'stack/.env.example': 'MODE=prod\n',
    },
    tiktoken: { cl100k_base: TIKTOKEN_FILE },
    ...(splitSize !== undefined && { splitSize }),
    manifest: (m) => ({
      ...m,
      compose: { ...m.compose, profiles: ['web'] },
      services: [{ name: 'web', image, built: false, healthcheck: false, profiles: ['web'] }],
      env: { template: 'stack/.env.example', generate: {} },
    }),
  });
  fixtures.push(fixture);
  return fixture;
}

/** The README's command lines ("   $ ..."), in order. */
async function readmeCommands(fixture: Fixture): Promise<string[]> {
  const { root, dir } = await extractFixture(fixture);
  try {
    const text = await readFile(path.join(dir, 'README.txt'), 'utf8');
    return [...text.matchAll(/^ {3}\$ (.*?)(?: {4}\(.*\))?$/gm)].map((m) => m[1] as string);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function sh(script: string, cwd: string): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8' });
}

describe('the manual path in README.txt, with the real tools', () => {
  it('one gzip file: sha256sum -c sidecar, tar xzf, sha256sum -c, docker load, tiktoken placed, docker-compose up', async () => {
    const fixture = await bundle();
    const commands = await readmeCommands(fixture);
    // This host has compose v1 only, and the bundle is one .tar.gz: skip the other variants.
    const chosen = commands.filter((c) => !/\.tar\.zst|\.part\*|^docker compose /.test(c));
    expect(chosen).toEqual([
      `sha256sum -c ${path.basename(fixture.sidecar)}`,
      `tar xzf ${path.basename(fixture.archive)}`,
      `cd ${project}-1.0.0`,
      'sha256sum -c checksums.sha256',
      'docker load -i images/images.tar',
      'cp -RT tiktoken stack/tiktoken',
      'cd stack',
      'cp -n .env.example .env',
      'export TIKTOKEN_CACHE_DIR="$(cd tiktoken && pwd)"',
      `docker-compose -p ${project} -f docker-compose.yml --profile web up -d --no-build`,
    ]);
    await engine.removeImage(image, { force: true });
    // The service reads the cache through its ./tiktoken mount: the file is there, byte for byte.
    const out = sh(
      [
        ...chosen,
        'echo "cache=$TIKTOKEN_CACHE_DIR"',
        `docker-compose -p ${project} -f docker-compose.yml exec -T web cat /tiktoken/${CL100K}`,
      ].join('\n'),
      fixture.outDir,
    );
    expect(out).toContain(`${path.basename(fixture.archive)}: OK`);
    expect(out).toContain('images/images.tar: OK');
    expect(out).toMatch(/^cache=\/.*\/stack\/tiktoken$/m);
    expect(out.endsWith(TIKTOKEN_FILE)).toBe(true);
    expect((await engine.inspectImage(image))?.repoTags).toContain(image);
    const running = await engine.listContainers(`com.docker.compose.project=${project}`);
    expect(running.map((c) => c.state)).toEqual(['running']);
  });

  it('split parts: sha256sum -c names each part, cat parts | tar xzf -, then docker load', async () => {
    const fixture = await bundle(parseSize('1M'));
    expect(fixture.parts.length).toBeGreaterThan(1);
    const commands = await readmeCommands(fixture);
    const chosen = [
      commands[0] as string,
      commands.find((c) => c.includes('.part*')) as string,
      commands.find((c) => c.startsWith('cd ')) as string,
      'sha256sum -c checksums.sha256',
      'docker load -i images/images.tar',
    ];
    await engine.removeImage(image, { force: true });
    const out = sh(chosen.join('\n'), fixture.outDir);
    for (const part of fixture.parts) expect(out).toContain(`${path.basename(part)}: OK`);
    expect(out).toContain(`Loaded image: ${image}`);
  });
});
