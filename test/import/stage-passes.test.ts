import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { BuildStepRecorder } from '../../src/docker/build-steps.js';
import type { BuildOptions, DockerEngine } from '../../src/docker/engine.js';
import type { DockerStreamEvent } from '../../src/docker/json-stream.js';
import { runRebuild } from '../../src/import/rebuild.js';
import { stagePassTargets } from '../../src/import/stage-passes.js';
import { baseManifest } from '../support/bundle-fixture.js';
import { tempDir } from '../support/temp-dir.js';

describe('stagePassTargets: the stages a rebuild builds on their own first', () => {
  it('none for one stage, named or not', () => {
    expect(stagePassTargets('FROM busybox\nRUN true\n')).toEqual([]);
    expect(stagePassTargets('FROM busybox AS app\nRUN true\n')).toEqual([]);
  });

  it('the named stages before the last, in Dockerfile order; unnamed ones are built inside the passes', () => {
    const text = 'FROM busybox AS Deps\nFROM busybox\nFROM deps AS test\nFROM busybox AS app\n';
    expect(stagePassTargets(text)).toEqual(['deps', 'test']);
  });

  it('with a target: only the stages before it (the build stops there)', () => {
    const text = 'FROM busybox AS deps\nFROM deps AS app\nFROM app AS test\n';
    expect(stagePassTargets(text, 'App')).toEqual(['deps']);
    expect(stagePassTargets(text, 'deps')).toEqual([]);
    // A target the Dockerfile lacks: no pass, the service build reports it.
    expect(stagePassTargets(text, 'nope')).toEqual([]);
  });
});

// The classic builder's output of `--target deps` with the deps stage changed: its RUN ran, the ARG came from
// the cache (restored from a cachefrom image).
const PASS_OUTPUT = [
  'Step 1/5 : ARG BASE',
  'Step 2/5 : FROM busybox AS deps',
  '---> 8558c8278712',
  'Step 3/5 : ARG NONCE',
  '---> Using cache',
  '---> 0324e8d227b3',
  'Step 4/5 : RUN echo hi > /hi',
  '---> Running in f34dfb5acf91',
  'Removing intermediate container f34dfb5acf91',
  '---> 4ed6f05f107b',
  'Successfully built 4ed6f05f107b',
];

describe('BuildStepRecorder: which image each step left', () => {
  it('records steps, the cache and the images, FROM steps left out of the images', () => {
    const recorder = new BuildStepRecorder();
    for (const line of PASS_OUTPUT) recorder.line(line);
    expect(recorder.steps).toEqual([
      { instruction: 'ARG BASE', cached: false },
      { instruction: 'FROM busybox AS deps', id: '8558c8278712', cached: false },
      { instruction: 'ARG NONCE', id: '0324e8d227b3', cached: true },
      { instruction: 'RUN echo hi > /hi', id: '4ed6f05f107b', cached: false },
    ]);
    expect(recorder.images()).toEqual(['0324e8d227b3', '4ed6f05f107b']);
    expect(recorder.built()).toEqual(['4ed6f05f107b']);
    expect(recorder.cachedExcept(new Set())).toBe(1);
    expect(recorder.cachedExcept(new Set(['0324e8d227b3']))).toBe(0);
    // ARG BASE before the first FROM and the FROM itself: never from a cache.
    expect(recorder.cacheable()).toBe(2);
  });

  it('counts no step cacheable before a FROM (an unfinished build), and none of the later FROMs', () => {
    const recorder = new BuildStepRecorder();
    recorder.line('Step 1/2 : ARG BASE');
    expect(recorder.cacheable()).toBe(0);
    for (const line of [
      'Step 2/5 : FROM x',
      '---> a0',
      'Step 3/5 : RUN a',
      'Step 4/5 : FROM x',
      'Step 5/5 : RUN b',
    ])
      recorder.line(line);
    expect(recorder.cacheable()).toBe(2);
  });
});

const BASE = 'offline-base/busybox:latest';
const DEPS = 'offline-cache/demo/app:deps';
const TEST = 'offline-cache/demo/app:test';
const IMAGE = 'demo_app:latest';
const DOCKERFILE = 'FROM busybox AS deps\nRUN a\nFROM deps AS test\nRUN b\nFROM deps\nRUN c\n';

/** An imported target whose app has three stages (deps, test, the final one) and their cache images. */
async function importedTarget(): Promise<string> {
  const target = await tempDir();
  const manifest: BundleManifest = {
    ...baseManifest('demo', '1.0.0', new Date(0)),
    services: [{ name: 'app', image: IMAGE, built: true, healthcheck: false, profiles: [] }],
    buildCaches: [
      {
        service: 'app',
        context: 'stack/app',
        dockerfile: 'Dockerfile',
        stages: [
          { target: 'deps', tag: DEPS, id: 'sha256:1' },
          { target: 'test', tag: TEST, id: 'sha256:2' },
        ],
        bases: [BASE],
      },
    ],
    files: [],
  };
  await mkdir(path.join(target, '.offline'), { recursive: true });
  await writeFile(path.join(target, '.offline/manifest.json'), JSON.stringify(manifest));
  await mkdir(path.join(target, 'app'));
  await writeFile(path.join(target, 'app/Dockerfile'), DOCKERFILE);
  return target;
}

/** An engine holding every image; each build records its options and prints the next scripted output. */
function fakeEngine(outputs: string[][]): { engine: DockerEngine; builds: BuildOptions[] } {
  const builds: BuildOptions[] = [];
  const engine = {
    inspectImage: async (ref: string) => ({
      id: `sha256:${ref}`,
      os: 'linux',
      architecture: 'amd64',
      size: 1,
    }),
    buildImage: async (
      context: Readable,
      options: BuildOptions,
      onEvent?: (event: DockerStreamEvent) => void,
    ) => {
      context.resume();
      const output = outputs[builds.length] ?? [];
      builds.push(options);
      for (const line of output) onEvent?.({ stream: ` ${line}\n` });
      return `sha256:build${builds.length}`;
    },
  } as unknown as DockerEngine;
  return { engine, builds };
}

describe('runRebuild of a multi-stage Dockerfile: stage passes, then the service build', () => {
  it('builds each earlier stage on its own, and offers the images each left ahead of the cache images', async () => {
    const target = await importedTarget();
    const { engine, builds } = fakeEngine([
      [
        'Step 1/2 : FROM x AS deps',
        '---> aaaaaaaaaaa0',
        'Step 2/2 : RUN a',
        '---> Using cache',
        '---> aaaaaaaaaaa1',
      ],
      [
        'Step 1/4 : FROM x AS deps',
        '---> aaaaaaaaaaa0',
        'Step 2/4 : RUN a',
        '---> Using cache',
        '---> aaaaaaaaaaa1',
        'Step 3/4 : FROM deps AS test',
        '---> aaaaaaaaaaa1',
        'Step 4/4 : RUN b',
        '---> Running in cccccccccccc',
        '---> bbbbbbbbbbb1',
      ],
      [
        'Step 1/4 : FROM x AS deps',
        '---> aaaaaaaaaaa0',
        'Step 2/4 : RUN a',
        '---> Using cache',
        '---> aaaaaaaaaaa1',
        'Step 3/6 : FROM deps AS test',
        '---> aaaaaaaaaaa1',
        'Step 4/6 : RUN b',
        '---> Using cache',
        '---> bbbbbbbbbbb1',
        'Step 5/6 : FROM deps',
        '---> aaaaaaaaaaa1',
        'Step 6/6 : RUN c',
        '---> Using cache',
        '---> ddddddddddd1',
      ],
    ]);
    const result = await runRebuild(engine, { service: 'app', target });
    const cache = [IMAGE, DEPS, TEST, BASE];
    expect(builds).toEqual([
      // Its own stage image first, then the cache images as the service build gets them.
      expect.objectContaining({ tags: [], target: 'deps', cacheFrom: [DEPS, IMAGE, TEST, BASE] }),
      expect.objectContaining({
        tags: [],
        target: 'test',
        cacheFrom: ['aaaaaaaaaaa1', TEST, IMAGE, DEPS, BASE],
      }),
      expect.objectContaining({ tags: [IMAGE], cacheFrom: ['aaaaaaaaaaa1', 'bbbbbbbbbbb1', ...cache] }),
    ]);
    expect(builds[2]?.target).toBeUndefined();
    expect(result.cacheFrom).toEqual(cache);
    // No stage copies anything from the context: each pass sent the Dockerfile alone.
    const onlyDockerfile = { sources: [], files: 1, bytes: DOCKERFILE.length };
    expect(result.stagePasses).toEqual([
      { target: 'deps', steps: 2, cacheable: 1, cached: 1, context: onlyDockerfile },
      { target: 'test', steps: 4, cacheable: 2, cached: 1, context: onlyDockerfile },
    ]);
    // RUN b "from the cache" in the service build is the image the test pass made by running it: not counted.
    expect(result).toMatchObject({ steps: 6, cacheable: 3, cached: 2 });
  });
});
