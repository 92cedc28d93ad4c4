import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { buildStep, planStep, pullStep, saveStep } from '../../src/export/steps.js';
import { startRegistry, type TestRegistry } from '../registry/support/registry-server.js';
import { removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';
import { copyStack, imageIdsIn, removeIntermediates, seedRegistryImage } from './support/stack.js';
import { optionsFor, stateFor } from './support/state.js';

/** Image names inside a `docker save` archive: its manifest.json's RepoTags and Config. */
function archiveManifest(archive: string): { Config: string; RepoTags: string[]; Layers: string[] }[] {
  return JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }));
}

describe('export steps: plan, build, pull, save (real engine)', () => {
  let engine: DockerEngine;
  let baseImage: string;
  let registry: TestRegistry;
  let pulledRef: string;
  let pulledId: string;
  const cleanup: string[] = [];
  const intermediates: string[] = [];

  beforeAll(async () => {
    ({ engine, baseImage } = await requireDocker());
    registry = await startRegistry();
    pulledRef = `${registry.host}/${uniqueName('offline-test/pulled')}:1`;
    cleanup.push(pulledRef);
    pulledId = await seedRegistryImage(engine, baseImage, pulledRef);
  });

  afterAll(async () => {
    if (engine) await removeImages(engine, cleanup);
    if (engine) await removeIntermediates(engine, intermediates);
    await registry?.stop();
  });

  it('plans every image, builds with .dockerignore, pulls the missing image and saves all in one archive', async () => {
    vi.stubEnv('OFFLINE_TEST_BASE', baseImage);
    vi.stubEnv('OFFLINE_TEST_PULLED', pulledRef);
    const name = uniqueName('steps');
    vi.stubEnv('OFFLINE_TEST_NONCE', name);
    cleanup.push(
      `${name}_api:latest`,
      `${name}-api:latest`,
      `${name}_worker:latest`,
      `${name}-worker:latest`,
    );
    const stack = await copyStack('three');
    const staging = await tempDir();
    const state = stateFor(engine, optionsFor(stack, name), staging);

    await planStep(state);
    expect(state.compose?.tool).toMatch(/^docker-compose 1\./);
    expect(state.compose?.allProfiles).toEqual(['extra']);
    expect(state.plan?.services.map((s) => [s.name, s.image, s.built])).toEqual([
      ['api', `${name}_api:latest`, true],
      ['cache', pulledRef, false],
      ['worker', `${name}_worker:latest`, true],
    ]);
    expect(state.plan?.pulls).toEqual([pulledRef]);
    expect(state.plan?.builds[0]?.dockerfile.stages.map((s) => s.name)).toEqual(['deps', 'build', undefined]);
    expect(state.plan?.builds[0]?.dockerfile.bases).toEqual([baseImage]);

    const lines: string[] = [];
    await buildStep(state, (line) => lines.push(line));
    intermediates.push(...imageIdsIn(lines).reverse());
    const api = await engine.runContainer(`${name}-api:latest`, ['sh', '-c', 'ls /src; cat /www/index.html']);
    expect(api.output).toBe('hello.txt\ndependency list v1\napi says hello\n');

    await pullStep(state, () => {});
    expect(state.pulled).toEqual([pulledRef]);

    await saveStep(state, () => {});
    const ids = state.images.map((i) => i.id).sort();
    expect(ids).toEqual([state.built.api, state.built.worker, pulledId].sort());
    const apiRecord = state.images.find((i) => i.id === state.built.api);
    expect(apiRecord).toMatchObject({
      tags: [`${name}-api:latest`, `${name}_api:latest`],
      os: 'linux',
      role: 'service',
      archive: 'images/images.tar',
    });
    expect(apiRecord?.size).toBeGreaterThan(0);
    const archive = path.join(staging, 'images/images.tar');
    const saved = archiveManifest(archive);
    expect(saved.flatMap((m) => m.RepoTags).sort()).toEqual(state.images.flatMap((i) => i.tags).sort());
    // One save: the busybox layer all three share is stored once.
    const layers = saved.flatMap((m) => m.Layers);
    expect(new Set(layers).size).toBeLessThan(layers.length);
    const stored = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n');
    expect(stored.filter((p) => p.endsWith('layer.tar')).length).toBe(new Set(layers).size);
    expect(state.imagesArchive?.size).toBeGreaterThan(0);
  });

  it('refuses a service with neither image nor build, naming the service and the file', async () => {
    const stack = await copyStack('three');
    const file = path.join(stack, 'docker-compose.yml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, 'services:\n  ghost:\n    command: ["true"]\n');
    const state = stateFor(engine, optionsFor(stack, uniqueName('ghost')), await tempDir());
    await expect(planStep(state)).rejects.toMatchObject({
      code: 'ECOMPOSE',
      file,
      message: expect.stringContaining('service "ghost" has neither "image" nor "build"'),
    });
  });

  it('names the failing step when a build fails', async () => {
    vi.stubEnv('OFFLINE_TEST_BASE', baseImage);
    const stack = await copyStack('three');
    const { appendFile } = await import('node:fs/promises');
    await appendFile(path.join(stack, 'worker/Dockerfile'), 'RUN echo about to fail && exit 3\n');
    const name = uniqueName('broken');
    vi.stubEnv('OFFLINE_TEST_NONCE', name);
    cleanup.push(`${name}_api:latest`, `${name}-api:latest`);
    const state = stateFor(engine, optionsFor(stack, name), await tempDir());
    await planStep(state);
    const lines: string[] = [];
    const failed = buildStep(state, (line) => lines.push(line));
    await failed.catch(() => intermediates.push(...imageIdsIn(lines).reverse()));
    await expect(failed).rejects.toMatchObject({
      code: 'EDOCKER',
      message: expect.stringMatching(/Step 5\/5 : RUN echo about to fail && exit 3/),
    });
  });

  it('with pull policy never, refuses an image that is not present', async () => {
    vi.stubEnv('OFFLINE_TEST_BASE', baseImage);
    vi.stubEnv('OFFLINE_TEST_PULLED', `${registry.host}/offline-test/absent:1`);
    const stack = await copyStack('three');
    const name = uniqueName('never');
    const state = stateFor(engine, optionsFor(stack, name, { pull: 'never' }), await tempDir());
    await planStep(state);
    await expect(pullStep(state, () => {})).rejects.toMatchObject({
      code: 'EDOCKER',
      file: `${registry.host}/offline-test/absent:1`,
    });
  });
});
