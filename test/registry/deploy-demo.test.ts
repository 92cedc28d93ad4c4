import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { runCli } from '../support/cli.js';
import { DEMO_IMAGES_LOCK, removeDemoImages } from '../support/demo-images.js';
import { removeComposeProject, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { lockAcrossProcesses } from '../support/process-lock.js';
import { type PrivateSwarm, startPrivateSwarm } from './support/private-swarm.js';
import { freePort, startRegistry, type TestRegistry } from './support/registry-server.js';

// The built-in demo bundle, exported for real (its images built on the test engine, cl100k_base from the local
// copy), pushed into a local registry and deployed on a single-node Swarm of the test's own engine, which starts
// with no image at all: every task runs an image pulled from the registry.
describe('the demo bundle on a Swarm, from a registry', () => {
  let engine: DockerEngine;
  let registry: TestRegistry;
  let swarm: PrivateSwarm;
  let work: string;
  let archive: string;
  let manifest: BundleManifest;
  const name = uniqueName('swarmdemo').replace(/[^a-z0-9-]/g, '-');
  let unlock: () => Promise<void>;

  beforeAll(async () => {
    const docker = await requireDocker();
    engine = docker.engine;
    // It builds offline-demo/* on the test engine, as make demo's test does: one at a time.
    unlock = await lockAcrossProcesses(DEMO_IMAGES_LOCK, 'the other demo test', 400_000);
    work = await mkdtemp(path.join(tmpdir(), 'offline-swarm-demo-'));
    const definition = path.join(work, 'demo');
    await cp(path.resolve('bundles/demo'), definition, { recursive: true });
    const exported = await runCli(
      ['export', definition, '--name', name, '--out', path.join(work, 'usb'), '--json'],
      {
        env: {
          BASE_IMAGE: docker.baseImage,
          TIKTOKEN_CACHE_DIR: path.resolve('node_modules/gpt-tokenizer/data'),
        },
      },
    );
    expect(exported.code, exported.stderr.slice(-2000)).toBe(0);
    archive = (exported.json as { archive: string }).archive;
    const inspected = await runCli(['inspect', archive, '--json']);
    manifest = (inspected.json as { manifest: BundleManifest }).manifest;
    registry = await startRegistry();
    swarm = await startPrivateSwarm();
  }, 700_000);

  afterAll(async () => {
    await swarm?.stop();
    await registry?.stop();
    if (engine) await removeDemoImages(engine, name);
    if (work) await rm(work, { recursive: true, force: true });
    await unlock?.();
  });

  it('runs every demo service with its health check passing, the proxy reaching api and tokenizer', async () => {
    const target = path.join(work, 'target');
    const stack = 'demo';
    const result = await runCli(
      [
        'deploy',
        archive,
        '--swarm',
        '--registry',
        `${registry.host}/site`,
        '--insecure',
        '--target',
        target,
        '--name',
        stack,
        '--timeout',
        '90',
        '--json',
      ],
      { env: { DOCKER_HOST: swarm.host, OFFLINE_UPLOAD_STATE_DIR: path.join(work, '.state') } },
    );
    // On failure, say why each service's tasks failed (docker service ps), not only that they did.
    const why =
      result.code === 0
        ? ''
        : (
            await Promise.all(
              ['api', 'web', 'tokenizer', 'proxy'].map((s) =>
                swarm.docker(['service', 'ps', '--no-trunc', `${stack}_${s}`]).catch(String),
              ),
            )
          ).join('\n');
    expect(result.code, `${result.stderr.slice(-2000)}\n${why}`).toBe(0);
    const json = result.json as { stack: { services: { name: string; replicas: string }[] } };
    expect(json.stack.services.map((s) => `${s.name} ${s.replicas}`).sort()).toEqual(
      ['api', 'proxy', 'tokenizer', 'web'].map((s) => `${stack}_${s} 1/1`),
    );
    expect(await readdir(target)).toEqual(
      expect.arrayContaining(['docker-compose.yml', 'tiktoken', '.env', 'docker-compose.registry.yml']),
    );
    const task = (service: string) => swarm.task(`${stack}_${service}`);
    // Each task runs the exported image ID, pulled from the registry into an engine that had none.
    for (const service of ['api', 'web', 'tokenizer']) {
      const image = (await swarm.docker(['inspect', '--format', '{{.Image}}', await task(service)])).trim();
      expect(image, service).toBe(
        manifest.images.find((i) => i.tags.includes(`offline-demo/${service}:1.0.0`))?.id,
      );
    }
    // The health checks pass (the tokenizer's only with the shipped tiktoken file), and the proxy reaches the
    // other services by name over the stack's network.
    for (const service of ['api', 'tokenizer', 'proxy']) {
      expect(
        (await swarm.docker(['inspect', '--format', '{{.State.Health.Status}}', await task(service)])).trim(),
        service,
      ).toBe('healthy');
    }
    const proxy = await task('proxy');
    const get = (url: string) => swarm.docker(['exec', proxy, 'wget', '-q', '-O', '-', url]);
    expect(await get('http://127.0.0.1:8080/cgi-bin/api')).toContain('"ok": true');
    expect(await get('http://127.0.0.1:8080/cgi-bin/tokenizer')).toMatch(/cl100k/);
  }, 240_000);

  it('a host imports the bundle from the same registry with compose: nothing loaded, every service healthy', async () => {
    // Pushed here, under a prefix of its own: this test does not rely on the Swarm test's deploy having run.
    const where = `${registry.host}/hosts`;
    const pushed = await runCli(['push', archive, '--registry', where, '--insecure', '--json'], {
      env: { OFFLINE_UPLOAD_STATE_DIR: path.join(work, '.state-hosts') },
    });
    expect(pushed.code, pushed.stderr.slice(-2000)).toBe(0);
    const pulled = ['api', 'web', 'tokenizer'].map((s) => `${where}/offline-demo/${s}:1.0.0`);
    const cacheArchive = manifest.archives.find((a) => a.kind === 'build-cache')?.path;
    expect(cacheArchive).toBeDefined();
    try {
      const result = await runCli(
        [
          'import',
          archive,
          '--registry',
          where,
          '--target',
          path.join(work, 'host'),
          '--start',
          '--timeout',
          '90',
          '--json',
        ],
        { env: { DEMO_PORT: String(await freePort()) } },
      );
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      const { report } = result.json as {
        report: {
          images: { loaded: string[] };
          notRead: string;
          verified: { path: string }[];
          started: { services: { name: string; health?: string }[] };
        };
      };
      expect(report.images.loaded).toEqual([]);
      // The build-cache archive comes first and is verified as it streams; the images archive is not read.
      expect(report.verified.map((v) => v.path)).toContain(cacheArchive);
      expect(report.notRead).toBe('images/images.tar');
      expect(report.started.services.filter((s) => s.health === 'healthy').length).toBe(3);
      for (const [i, service] of ['api', 'web', 'tokenizer'].entries()) {
        expect((await engine.inspectImage(pulled[i] as string))?.id, service).toBe(
          manifest.images.find((image) => image.tags.includes(`offline-demo/${service}:1.0.0`))?.id,
        );
      }
    } finally {
      removeComposeProject(manifest.project);
      await removeImages(engine, pulled);
    }
  }, 240_000);
});
