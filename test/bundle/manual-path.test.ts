import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compression } from '../../src/bundle/layout.js';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { renderReadme } from '../../src/bundle/readme.js';
import { parseSize } from '../../src/bundle/size.js';
import {
  COMPOSE_PLUGIN,
  COMPOSE_STANDALONE_V2,
  COMPOSE_V1,
  type ComposeInvocation,
} from '../../src/compose/detect-tool.js';
import { composeUpCommand } from '../../src/compose/up-command.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { renderImportScript } from '../../src/selfcontained/import-script.js';
import { shQuote } from '../../src/selfcontained/sh-quote.js';
import { baseManifest, extractFixture, type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { removeComposeProject, removeImages } from '../support/docker.js';
import { CL100K, webCompose, webImage, webManifest } from '../support/web-stack.js';

// The manual import path of the README.txt, run with the real tools: GNU tar, coreutils, docker, docker-compose.
let engine: DockerEngine;
let project: string;
let image: string;
const fixtures: Fixture[] = [];
const TIKTOKEN_FILE = 'IQ== 0\n';

beforeAll(async () => {
  ({ engine, project, image } = await webImage('manual'));
});

afterAll(async () => {
  removeComposeProject(project);
  await removeImages(engine, [image]);
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

async function bundle(pack: { splitSize?: number; compression?: Compression } = {}): Promise<Fixture> {
  const fixture = await makeBundle({
    name: project,
    engine,
    images: [image],
    files: {
      // The cache mounted from ./tiktoken beside the compose file.
      'stack/docker-compose.yml': webCompose(image, './tiktoken', [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: compose syntax, not a JS template
        'MODE: ${MODE}',
        'TIKTOKEN_CACHE_DIR: /tiktoken',
      ]),
      'stack/.env.example': 'MODE=prod\n',
    },
    tiktoken: { cl100k_base: TIKTOKEN_FILE },
    ...pack,
    manifest: (m) => webManifest(m, image),
  });
  fixtures.push(fixture);
  return fixture;
}

/** The README's command lines ("   $ ..."), in order, exactly as written. */
async function readmeCommands(fixture: Fixture): Promise<string[]> {
  const { root, dir } = await extractFixture(fixture);
  try {
    const text = await readFile(path.join(dir, 'README.txt'), 'utf8');
    return [...text.matchAll(/^ {3}\$ (.*)$/gm)].map((m) => m[1] as string);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * The lines a user with this bundle runs: of those naming a bundle file, the ones naming its sidecar or its
 * archive (one file, or its parts); compose v1's start line (this host has no compose v2).
 */
function linesFor(commands: string[], fixture: Fixture): string[] {
  const archive = path.basename(fixture.archive);
  const mine = [path.basename(fixture.sidecar), fixture.parts.length > 0 ? `${archive}.part*` : archive];
  return commands.filter(
    (c) =>
      !c.startsWith('docker compose ') &&
      c
        .split(' ')
        .filter((word) => word.includes('.offline.tar'))
        .every((word) => mine.includes(word)),
  );
}

function sh(script: string, cwd: string): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8' });
}

/** Runs the README's lines for this bundle from the folder holding it, with the image and project gone first. */
async function importByHand(fixture: Fixture): Promise<string> {
  const chosen = linesFor(await readmeCommands(fixture), fixture);
  removeComposeProject(project);
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
  expect(out).toContain('images/images.tar: OK');
  expect(out).toMatch(/^cache=\/.*\/stack\/tiktoken$/m);
  expect(out.endsWith(TIKTOKEN_FILE)).toBe(true);
  expect((await engine.inspectImage(image))?.repoTags).toContain(image);
  const running = await engine.listContainers(`com.docker.compose.project=${project}`);
  expect(running.map((c) => c.state)).toEqual(['running']);
  return out;
}

/** The lines after the extraction, the same for every bundle. */
const AFTER_EXTRACTION = (stem: string) => [
  `cd ${stem}`,
  'sha256sum -c checksums.sha256',
  'docker load -i images/images.tar',
  'cp -RT tiktoken stack/tiktoken',
  'cd stack',
  'test -e .env || cp .env.example .env',
  'export TIKTOKEN_CACHE_DIR="$(cd tiktoken && pwd)"',
];

describe('the manual path in README.txt, with the real tools', () => {
  it('one gzip file: sha256sum -c sidecar, tar xzf, sha256sum -c, docker load, tiktoken placed, docker-compose up', async () => {
    const fixture = await bundle();
    const commands = await readmeCommands(fixture);
    expect(linesFor(commands, fixture)).toEqual([
      `sha256sum -c ${path.basename(fixture.sidecar)}`,
      `tar xzf ${path.basename(fixture.archive)}`,
      ...AFTER_EXTRACTION(`${project}-1.0.0`),
      `docker-compose -p ${project} -f docker-compose.yml --profile web up -d --no-build`,
    ]);
    expect(commands).toContain(
      `docker compose -p ${project} -f docker-compose.yml --profile web up -d --no-build --pull never`,
    );
    const out = await importByHand(fixture);
    expect(out).toContain(`${path.basename(fixture.archive)}: OK`);
  });

  it('split parts: sha256sum -c names each part, cat parts | tar xzf -, then the same steps', async () => {
    const fixture = await bundle({ splitSize: parseSize('1M') });
    expect(fixture.parts.length).toBeGreaterThan(1);
    expect(linesFor(await readmeCommands(fixture), fixture).slice(0, 2)).toEqual([
      `sha256sum -c ${path.basename(fixture.sidecar)}`,
      `cat ${path.basename(fixture.archive)}.part* | tar xzf -`,
    ]);
    const out = await importByHand(fixture);
    for (const part of fixture.parts) expect(out).toContain(`${path.basename(part)}: OK`);
    expect(out).toContain(`Loaded image: ${image}`);
  });

  it('not compressed (--compression none): its own sidecar and tar xf, then the same steps', async () => {
    const fixture = await bundle({ compression: 'none' });
    expect(path.basename(fixture.archive)).toBe(`${project}-1.0.0.offline.tar`);
    expect(linesFor(await readmeCommands(fixture), fixture).slice(0, 2)).toEqual([
      `sha256sum -c ${path.basename(fixture.sidecar)}`,
      `tar xf ${path.basename(fixture.archive)}`,
    ]);
    const out = await importByHand(fixture);
    expect(out).toContain(`${path.basename(fixture.archive)}: OK`);
  });
});

describe('README.txt command lines', () => {
  const manifest: Omit<BundleManifest, 'files'> = {
    ...baseManifest('odd', '1.0.0', new Date('2026-01-01T00:00:00Z')),
    compose: { file: "stack/my app/it's compose.yml", profiles: ['a b'] },
    archives: [{ path: 'caches/build-cache.tar', kind: 'build-cache', images: [] }],
    env: { template: 'stack/my app/.env example', generate: {} },
    tiktoken: {
      dir: 'tiktoken',
      entries: [{ encoding: 'cl100k_base', url: 'u', file: 'tiktoken/x', sha256: 'a'.repeat(64), size: 1 }],
    },
  };
  const text = renderReadme(manifest, { importers: { script: true, bundle: true } });
  const commands = [...text.matchAll(/^ {3}\$ (.*)$/gm)].map((m) => m[1] as string);

  it('quote the compose folder, the compose file and the template for sh', () => {
    expect(commands).toEqual(
      expect.arrayContaining([
        "cd 'stack/my app'",
        "test -e .env || cp '.env example' .env",
        'export TIKTOKEN_CACHE_DIR="$(cd ../tiktoken && pwd)"',
        `docker-compose -p odd -f 'it'\\''s compose.yml' --profile 'a b' up -d --no-build`,
        'docker load -i caches/build-cache.tar',
      ]),
    );
  });

  it('start the stack with the command import.sh runs', () => {
    // import.sh takes a compose file in stack/ only.
    const inStack = { ...manifest, compose: { ...manifest.compose, file: "stack/it's compose.yml" } };
    const readme = renderReadme(inStack, { importers: { script: true, bundle: true } });
    for (const tool of [COMPOSE_PLUGIN, COMPOSE_V1]) {
      expect(readme).toContain(`   $ ${composeUpCommand(inStack, tool)}\n`);
    }
    const up = (tool: ComposeInvocation) => `UP=${shQuote(composeUpCommand(inStack, tool))}`;
    const script = renderImportScript(inStack);
    expect(script).toContain(`then ${up(COMPOSE_PLUGIN)}\n`);
    expect(script).toContain(` 1.*|v1.*) ${up(COMPOSE_V1)} ;;\n`);
    expect(script).toContain(` *) ${up(COMPOSE_STANDALONE_V2)} ;;\n`);
  });

  it('are each one whole sh command, with no remark after it', () => {
    for (const command of commands) {
      expect(() => execFileSync('/bin/dash', ['-n', '-c', command]), command).not.toThrow();
      expect(command).not.toMatch(/ {2}\(/);
    }
  });
});
