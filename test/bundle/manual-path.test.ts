import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSize } from '../../src/bundle/size.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { extractFixture, type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { removeComposeProject, removeImages, requireDocker, uniqueName } from '../support/docker.js';

// The manual import path of the README.txt, run with the real tools: GNU tar, coreutils, docker, docker-compose.
let engine: DockerEngine;
let project: string;
let image: string;
const fixtures: Fixture[] = [];

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
      'stack/docker-compose.yml': `version: "2.4"\nservices:\n  web:\n    image: ${image}\n    command: ["httpd", "-f", "-p", "8080", "-h", "/"]\n    environment:\n      MODE: \${MODE}\n`,
      'stack/.env.example': 'MODE=prod\n',
    },
    tiktoken: { cl100k_base: 'IQ== 0\n' },
    ...(splitSize !== undefined && { splitSize }),
    manifest: (m) => ({
      ...m,
      services: [{ name: 'web', image, built: false, healthcheck: false, profiles: [] }],
      env: { template: 'stack/.env.example', generate: {} },
    }),
  });
  fixtures.push(fixture);
  return fixture;
}

/** The README's command lines ("   $ ..."), in order. */
async function readmeCommands(fixture: Fixture): Promise<string[]> {
  const { dir } = await extractFixture(fixture);
  const text = await readFile(path.join(dir, 'README.txt'), 'utf8');
  return [...text.matchAll(/^ {3}\$ (.*?)(?: {4}\(.*\))?$/gm)].map((m) => m[1] as string);
}

function sh(script: string, cwd: string): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8' });
}

describe('the manual path in README.txt, with the real tools', () => {
  it('one gzip file: sha256sum -c sidecar, tar xzf, sha256sum -c, docker load, docker-compose up', async () => {
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
      'cd stack',
      'cp -n .env.example .env',
      'export TIKTOKEN_CACHE_DIR="$(cd ../tiktoken && pwd)"',
      `docker-compose -p ${project} -f docker-compose.yml up -d --no-build`,
    ]);
    await engine.removeImage(image, { force: true });
    const out = sh(`${chosen.join('\n')}\necho "cache=$TIKTOKEN_CACHE_DIR"`, fixture.outDir);
    expect(out).toContain(`${path.basename(fixture.archive)}: OK`);
    expect(out).toContain('images/images.tar: OK');
    expect(out).toMatch(/cache=\/.*\/tiktoken/);
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
