import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { freePort, startRegistry, type TestRegistry } from '../registry/support/registry-server.js';
import { runCli } from '../support/cli.js';
import { removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';
import { type FileServer, startFileServer } from '../support/tiktoken-server.js';
import { sh } from './support/cli-export.js';
import { copyStack, seedRegistryImage } from './support/stack.js';

const EPOCH = '1700000000';

interface ExportJson {
  ok: boolean;
  archive: string;
  parts: string[];
  sidecar: string;
  sha256: string;
  size: number;
  images: { id: string; tags: string[]; size: number; role: string }[];
  timings: Record<string, number>;
  error?: { code: string; file?: string; message: string };
}

describe('offline export (CLI, real engine, local registry)', () => {
  let engine: DockerEngine;
  let baseImage: string;
  let registry: TestRegistry;
  let pulledRef: string;
  let pulledId: string;
  let name: string;
  let stack: string;
  let env: NodeJS.ProcessEnv;
  let first: ExportJson;
  let outDir: string;
  let root: string;
  let files: FileServer;
  const cleanup: string[] = [];

  const exportArgs = (out: string, ...extra: string[]) => [
    'export',
    stack,
    '--out',
    out,
    '--json',
    '--name',
    name,
    '--encodings',
    'cl100k_base',
    '--build-cache',
    ...extra,
  ];

  beforeAll(async () => {
    ({ engine, baseImage } = await requireDocker());
    registry = await startRegistry();
    files = await startFileServer();
    name = uniqueName('e2e');
    pulledRef = `${registry.host}/${uniqueName('offline-test/pulled')}:1`;
    cleanup.push(
      pulledRef,
      `${name}_api:latest`,
      `${name}-api:latest`,
      `${name}_worker:latest`,
      `${name}-worker:latest`,
      `offline-cache/${name}/api:deps`,
      `offline-cache/${name}/api:build`,
    );
    pulledId = await seedRegistryImage(engine, baseImage, pulledRef);
    root = await mkdtemp(path.join(tmpdir(), 'offline-e2e-'));
    stack = await copyStack('three', root);
    env = {
      OFFLINE_TEST_BASE: baseImage,
      OFFLINE_TEST_PULLED: pulledRef,
      // One fixed nonce: the build-stage intermediates that every classic build leaves are shared across runs.
      OFFLINE_TEST_NONCE: 'e2e',
      SOURCE_DATE_EPOCH: EPOCH,
      OFFLINE_TIKTOKEN_BASE_URL: files.url,
    };
    outDir = path.join(root, 'out1');
    const result = await runCli(exportArgs(outDir), { env });
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    first = result.json as unknown as ExportJson;
  }, 300_000);

  afterAll(async () => {
    if (engine) await removeImages(engine, cleanup);
    await registry?.stop();
    await files?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('writes one archive and a sidecar that GNU sha256sum accepts', async () => {
    expect(first.ok).toBe(true);
    expect(path.basename(first.archive)).toBe(`${name}-1.0.0.offline.tar.gz`);
    expect(first.parts).toEqual([]);
    expect(await readdir(outDir)).toEqual([
      `${name}-1.0.0.offline.tar.gz`,
      `${name}-1.0.0.offline.tar.gz.sha256`,
    ]);
    expect(await sh(outDir, `sha256sum -c ${path.basename(first.sidecar)}`)).toContain(': OK');
    expect((await sh(outDir, `sha256sum ${path.basename(first.archive)}`)).slice(0, 64)).toBe(first.sha256);
    expect(first.timings.total).toBeGreaterThan(0);
  });

  it('holds every image with its ID and tags, the manifest fields and checksums over every file', async () => {
    const dir = await tempDir();
    await sh(dir, `tar -xzf ${first.archive}`);
    const top = path.join(dir, `${name}-1.0.0`);
    expect(await sh(top, 'sha256sum --quiet -c checksums.sha256 && echo all-good')).toBe('all-good\n');
    const entries = (await sh(dir, `tar -tzf ${first.archive}`)).trim().split('\n');
    expect(entries[0]).toMatch(/manifest\.json$/);
    expect(entries[1]).toMatch(/checksums\.sha256$/);
    expect(entries.at(-1)).toMatch(/images\/images\.tar$/);
    expect(entries.some((e) => e.endsWith('ignored.debug'))).toBe(false);

    const manifest = JSON.parse(await readFile(path.join(top, 'manifest.json'), 'utf8')) as BundleManifest;
    const apiId = (await engine.inspectImage(`${name}_api:latest`))?.id;
    const workerId = (await engine.inspectImage(`${name}_worker:latest`))?.id;
    expect(manifest).toMatchObject({
      format: 'offline-bundle',
      schemaVersion: 1,
      tool: { name: 'offline' },
      createdAt: new Date(Number(EPOCH) * 1000).toISOString(),
      name,
      version: '1.0.0',
      project: name.replace(/[^a-z0-9_-]/g, ''),
      source: { compose: expect.stringMatching(/^docker-compose 1\./), engine: { os: 'linux' } },
      compose: { file: 'stack/docker-compose.yml', profiles: ['extra'] },
      env: { template: 'stack/.env.example', generate: { SECRET_KEY: { kind: 'hex', bytes: 32 } } },
      tiktoken: {
        dir: 'tiktoken',
        entries: [
          {
            encoding: 'cl100k_base',
            url: 'https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken',
            file: 'tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4',
            size: 1681126,
          },
        ],
      },
      archives: [
        { path: 'images/images.tar', kind: 'images' },
        { path: 'caches/build-cache.tar', kind: 'build-cache' },
      ],
      buildCaches: [
        {
          service: 'api',
          context: 'stack/api',
          dockerfile: 'Dockerfile',
          stages: [
            { target: 'deps', tag: `offline-cache/${name}/api:deps` },
            { target: 'build', tag: `offline-cache/${name}/api:build` },
          ],
          bases: [baseImage],
        },
        { service: 'worker', context: 'stack/worker', stages: [], bases: [baseImage] },
      ],
    });
    const baseId = (await engine.inspectImage(baseImage))?.id;
    expect(manifest.services.map((s) => [s.name, s.built, s.healthcheck, s.profiles])).toEqual([
      ['api', true, true, []],
      ['cache', false, false, ['extra']],
      ['worker', true, false, []],
    ]);
    expect(manifest.images.map((i) => [i.id, i.tags, i.role])).toEqual([
      [pulledId, [pulledRef], 'service'],
      [apiId, [`${name}-api:latest`, `${name}_api:latest`], 'service'],
      [workerId, [`${name}-worker:latest`, `${name}_worker:latest`], 'service'],
      [baseId, [baseImage], 'base'],
    ]);
    expect(manifest.images.find((i) => i.role === 'base')?.archive).toBe('caches/build-cache.tar');
    expect(first.images.map((i) => i.id).sort()).toEqual([apiId, pulledId, workerId].sort());
    expect(await sh(top, 'sha256sum < tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4')).toMatch(
      /^223921b7/,
    );
    const files = manifest.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'stack/docker-compose.yml',
        'stack/.env.example',
        'stack/config/app.toml',
        'stack/api/Dockerfile',
        'stack/api/src/hello.txt',
        'images/images.tar',
        'README.txt',
      ]),
    );
    // One save: every image's tags are in the single images archive.
    const saved = JSON.parse(await sh(top, 'tar -xOf images/images.tar manifest.json')) as {
      RepoTags: string[];
    }[];
    expect(saved.flatMap((m) => m.RepoTags).sort()).toEqual(
      manifest.images
        .filter((i) => i.archive === 'images/images.tar')
        .flatMap((i) => i.tags)
        .sort(),
    );
  });

  it('gives the same bytes for the same inputs and SOURCE_DATE_EPOCH', async () => {
    const again = await runCli(exportArgs(path.join(root, 'out2')), { env });
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    const second = again.json as unknown as ExportJson;
    if (second.sha256 !== first.sha256) {
      const dir = await tempDir();
      const diff = await sh(
        dir,
        `mkdir a b && tar -xzf ${first.archive} -C a && tar -xzf ${second.archive} -C b && (diff -r a b || true) | head -20`,
      );
      expect.fail(`two exports differ:\n${diff}`);
    }
  });

  it('never overwrites a bundle in --out without --force', async () => {
    const result = await runCli(exportArgs(outDir), { env });
    expect(result.code).toBe(1);
    expect((result.json as unknown as ExportJson).error).toMatchObject({ code: 'EEXIST' });
    expect(await sh(outDir, `sha256sum -c ${path.basename(first.sidecar)}`)).toContain(': OK');
  });

  it('refuses a stack holding a .env file, naming it, before building anything', async () => {
    const secretStack = await copyStack('three');
    await writeFile(path.join(secretStack, 'config/.env'), 'SECRET_KEY=abc\n');
    const out = await tempDir();
    const secretName = uniqueName('secret');
    cleanup.push(
      ...['api', 'worker'].flatMap((s) => [`${secretName}_${s}:latest`, `${secretName}-${s}:latest`]),
    );
    const result = await runCli(['export', secretStack, '--out', out, '--json', '--name', secretName], {
      env,
    });
    expect(result.code).toBe(1);
    expect((result.json as unknown as ExportJson).error).toMatchObject({
      code: 'ESECRET',
      file: path.join(secretStack, 'config/.env'),
    });
    expect(await readdir(out)).toEqual([]);
  });

  it('is imported by hand with GNU tar, sha256sum, docker load and docker-compose up', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const project = name;
    const composeEnv = { ...env, OFFLINE_TEST_PORT: String(port) };
    // The target host has none of the stack's images.
    await removeImages(engine, [
      `${name}_api:latest`,
      `${name}-api:latest`,
      `${name}_worker:latest`,
      `${name}-worker:latest`,
      pulledRef,
    ]);
    const top = `${name}-1.0.0`;
    await sh(dir, `tar -xzf ${first.archive} && cd ${top} && sha256sum --quiet -c checksums.sha256`);
    expect(await readFile(path.join(dir, top, 'README.txt'), 'utf8')).toContain('docker load');
    await sh(path.join(dir, top), 'docker load -i images/images.tar');
    const stackDir = path.join(dir, top, 'stack');
    await sh(stackDir, 'cp .env.example .env');
    try {
      await sh(stackDir, `docker-compose -p ${project} up -d --no-build`, composeEnv);
      let body = '';
      for (let i = 0; i < 50 && body === ''; i++) {
        body = await fetch(`http://127.0.0.1:${port}/`).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        if (body === '') await new Promise((r) => setTimeout(r, 200));
      }
      expect(body).toBe('dependency list v1\napi says hello\n');
    } finally {
      await sh(stackDir, `docker-compose -p ${project} down --remove-orphans`, composeEnv).catch(() => '');
    }
  });

  it('aborts cleanly on Ctrl-C: no archive, no staging folder, exit 130', async () => {
    const out = await tempDir();
    const interrupted = uniqueName('sigint');
    cleanup.push(
      ...['api', 'worker'].flatMap((s) => [`${interrupted}_${s}:latest`, `${interrupted}-${s}:latest`]),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'export', stack, '--out', out, '--name', interrupted],
      { env: { ...process.env, ...env, OFFLINE_SILENT: '1' }, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Interrupted while it works: once its staging folder is there (and before it could be done).
    let staging = false;
    for (let i = 0; i < 2400 && !staging && child.exitCode === null; i++) {
      staging = (await readdir(out)).some((n) => n.startsWith('.offline-export-'));
      if (!staging) await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGINT');
    const code = await exited;
    expect(staging, 'the staging folder appeared before SIGINT').toBe(true);
    expect(code).toBe(130);
    expect(await readdir(out)).toEqual([]);
  });
});
