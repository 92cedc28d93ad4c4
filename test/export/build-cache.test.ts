import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { buildService } from '../../src/export/build.js';
import { buildContextStream } from '../../src/export/build-context.js';
import { buildCacheStep, buildStep, planStep } from '../../src/export/steps.js';
import { removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';
import { copyStack, imageIdsIn, removeIntermediates } from './support/stack.js';
import { optionsFor, stateFor } from './support/state.js';

describe('build caches (real engine, classic builder)', () => {
  let engine: DockerEngine;
  let baseImage: string;
  const cleanup: string[] = [];
  const intermediates: string[] = [];

  beforeAll(async () => {
    ({ engine, baseImage } = await requireDocker());
  });

  afterAll(async () => {
    if (engine) await removeImages(engine, cleanup);
    if (engine) await removeIntermediates(engine, intermediates);
  });

  it('saves stage images and bases so a changed service rebuilds from a loaded cache, reusing unchanged steps', async () => {
    const name = uniqueName('cache');
    // The stack's own base tag, so "a fresh engine" can drop it without touching the shared base.
    const base = `offline-test-base/${name}:1`;
    await engine.tagImage(baseImage, `offline-test-base/${name}`, '1');
    cleanup.push(base);
    vi.stubEnv('OFFLINE_TEST_BASE', base);
    vi.stubEnv('OFFLINE_TEST_PULLED', baseImage);
    vi.stubEnv('OFFLINE_TEST_NONCE', name);
    const stack = await copyStack('three');
    const staging = await tempDir();
    const state = stateFor(engine, optionsFor(stack, name, { buildCache: true }), staging);
    const serviceTags = [
      `${name}_api:latest`,
      `${name}-api:latest`,
      `${name}_worker:latest`,
      `${name}-worker:latest`,
    ];
    const stageTags = [`offline-cache/${name}/api:deps`, `offline-cache/${name}/api:build`];
    cleanup.push(...serviceTags, ...stageTags);

    await planStep(state);
    expect(state.plan?.bases).toEqual([base]);
    const buildLines: string[] = [];
    await buildStep(state, (line) => buildLines.push(line));
    const planned = state.plan?.builds.find((b) => b.service === 'api');
    if (!planned) throw new Error('api not planned');
    // Another build of the same steps on this engine, after the service's own (a second export of the same
    // stack, say): its images for those steps are the newest, which a build with `target` would take from the
    // builder's local cache. The stage images must be the ones the service's build used.
    const otherLines: string[] = [];
    await engine.buildImage(
      await buildContextStream(planned.build.context, planned.build.dockerfile),
      { tags: [], buildArgs: planned.build.args, noCache: true },
      (event) => otherLines.push(event.stream?.trim() ?? ''),
    );
    intermediates.push(...imageIdsIn(otherLines).reverse());
    const builds = vi.spyOn(engine, 'buildImage');
    await buildCacheStep(state, () => {});
    // No second build: the stage images are tagged from the service build's output.
    expect(builds).not.toHaveBeenCalled();
    builds.mockRestore();

    const api = state.buildCaches.find((c) => c.service === 'api');
    expect(api).toMatchObject({ context: 'stack/api', dockerfile: 'Dockerfile', bases: [base] });
    expect(api?.stages.map((s) => [s.target, s.tag])).toEqual([
      ['deps', stageTags[0]],
      ['build', stageTags[1]],
    ]);
    const serviceImages = new Set(imageIdsIn(buildLines));
    const otherImages = new Set(imageIdsIn(otherLines));
    for (const stage of api?.stages ?? []) {
      const short = stage.id.slice(7, 19);
      expect(serviceImages, stage.target).toContain(short);
      expect(otherImages, stage.target).not.toContain(short);
    }
    expect(state.buildCaches.find((c) => c.service === 'worker')).toMatchObject({
      stages: [],
      bases: [base],
    });
    const archive = path.join(staging, 'caches/build-cache.tar');
    const saved = JSON.parse(
      execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }),
    ) as {
      RepoTags: string[];
    }[];
    expect(saved.flatMap((m) => m.RepoTags).sort()).toEqual([base, ...stageTags].sort());
    expect(state.cacheImages.find((i) => i.role === 'base')?.tags).toEqual([base]);
    const depsId = api?.stages[0]?.id;

    // A fresh engine: the stack's images, stages and base tag are gone (and with them the intermediate images).
    await removeImages(engine, [...serviceTags, ...stageTags, base]);
    expect(await engine.inspectImage(stageTags[0] ?? '')).toBeUndefined();
    expect(await engine.inspectImage(depsId ?? '')).toBeUndefined();
    await engine.loadImages(createReadStream(archive));
    expect((await engine.inspectImage(stageTags[0] ?? ''))?.id).toBe(depsId);

    // The source changed: the dependency steps come from the cache, the rest is rebuilt.
    await writeFile(path.join(stack, 'api/src/hello.txt'), 'api says hello, changed\n');
    const lines: string[] = [];
    const rebuilt = await buildService(
      engine,
      planned,
      { tags: [`${name}-api:rebuilt`], cacheFrom: [...stageTags, base] },
      (line) => lines.push(line),
    );
    // Newest first, so each removal leaves its parent childless: the build stages' intermediates included.
    cleanup.push(`${name}-api:rebuilt`);
    intermediates.push(...imageIdsIn([...buildLines, ...lines]).reverse());
    const log = lines.join('\n');
    expect(log).toMatch(/RUN mkdir -p \/deps[^\n]*\n\s*---> Using cache/);
    expect(log).not.toMatch(/COPY src\/ \/src\/[^\n]*\n\s*---> Using cache/);
    const output = await engine.runContainer(rebuilt, ['cat', '/www/index.html']);
    expect(output.output).toBe('dependency list v1\napi says hello, changed\n');
  });
});
