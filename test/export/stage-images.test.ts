import { writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BuildStepRecorder, buildOutputLine } from '../../src/docker/build-steps.js';
import type { BuildOptions, DockerEngine, ImageInfo } from '../../src/docker/engine.js';
import { tagStageImages } from '../../src/export/build-cache.js';
import { parseDockerfile } from '../../src/export/dockerfile-stages.js';
import type { PlannedBuild } from '../../src/export/plan.js';
import { tempDir } from '../support/temp-dir.js';

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JS template
const DOCKERFILE = [
  'ARG BASE=busybox',
  'FROM ${BASE} AS deps',
  'RUN a',
  'FROM deps AS build',
  'RUN b',
  'FROM ${BASE} AS final',
  'COPY --from=build /b /b',
].join('\n');
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JS template

/** A classic build's output of DOCKERFILE, up to `stages` stages (the builder builds every one before the target). */
function output(stages: number): string[] {
  const all = [
    ['Step 1/7 : ARG BASE=busybox'],
    [
      'Step 2/7 : FROM busybox AS deps',
      '---> 000000000000',
      'Step 3/7 : RUN a',
      '---> Running in c1',
      '---> aaaaaaaaaaaa',
    ],
    [
      'Step 4/7 : FROM deps AS build',
      '---> aaaaaaaaaaaa',
      'Step 5/7 : RUN b',
      '---> Using cache',
      '---> bbbbbbbbbbbb',
    ],
    [
      'Step 6/7 : FROM busybox AS final',
      '---> 000000000000',
      'Step 7/7 : COPY --from=build /b /b',
      '---> ffffffffffff',
    ],
  ];
  return all.slice(0, stages + 1).flat();
}

function recorded(lines: string[]): string[] {
  const recorder = new BuildStepRecorder();
  for (const line of lines) recorder.line(line);
  return recorder.stageImages();
}

/** An engine that knows the images of `present` (short ID -> full ID), records tags and builds. */
function fakeEngine(present: Record<string, string>) {
  const tags: [string, string][] = [];
  const builds: BuildOptions[] = [];
  const engine = {
    inspectImage: async (ref: string): Promise<ImageInfo | undefined> => {
      const id = present[ref];
      return id ? { id, repoTags: [], os: 'linux', architecture: 'amd64', size: 1, labels: {} } : undefined;
    },
    tagImage: async (id: string, repo: string, tag: string) => {
      tags.push([id, `${repo}:${tag}`]);
    },
    buildImage: async (context: Readable, options: BuildOptions) => {
      context.resume();
      builds.push(options);
      return `sha256:built-${options.target}`;
    },
  } as unknown as DockerEngine;
  return { engine, tags, builds };
}

async function planned(target?: string): Promise<PlannedBuild> {
  const context = await tempDir();
  await writeFile(`${context}/Dockerfile`, DOCKERFILE);
  return {
    service: 'app',
    build: { context, dockerfile: 'Dockerfile', args: {}, ...(target && { target }) },
    tags: ['demo-app:latest'],
    dockerfile: parseDockerfile(DOCKERFILE, {}),
  };
}

const PRESENT = {
  aaaaaaaaaaaa: `sha256:${'a'.repeat(64)}`,
  bbbbbbbbbbbb: `sha256:${'b'.repeat(64)}`,
  ffffffffffff: `sha256:${'f'.repeat(64)}`,
};
const options = (root: string) => ({ bundle: 'demo', stackRoot: root, platform: undefined });

describe('BuildStepRecorder.stageImages: the image each stage of a build ended with', () => {
  it('one per FROM, in order: the last step image of each stage, the base for a FROM alone', () => {
    expect(recorded(output(3))).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'ffffffffffff']);
    expect(recorded(['Step 1/1 : FROM busybox', '---> 000000000000'])).toEqual(['000000000000']);
    expect(recorded(['Step 1/1 : ARG X'])).toEqual([]);
  });
});

describe('buildOutputLine: one line of build output as a log shows it', () => {
  it("trims it and drops the colour codes the engine puts around a step's stderr", () => {
    expect(buildOutputLine({ stream: '\u001b[91mboom\n\u001b[0m' })).toBe('boom');
    expect(buildOutputLine({ stream: ' ---> Using cache\n' })).toBe('---> Using cache');
    expect(buildOutputLine({ stream: '\u001b[0m' })).toBeUndefined();
    expect(buildOutputLine({ aux: { ID: 'sha256:x' } })).toBeUndefined();
  });
});

describe('tagStageImages: the stage images come from the service build, not a second build', () => {
  it("tags each named stage's image from the build output, and builds nothing", async () => {
    const build = await planned();
    const { engine, tags, builds } = fakeEngine(PRESENT);
    const [entry] = await tagStageImages(
      engine,
      [build],
      { app: recorded(output(3)) },
      options(build.build.context),
    );
    expect(builds).toEqual([]);
    expect(tags).toEqual([
      [PRESENT.aaaaaaaaaaaa, 'offline-cache/demo/app:deps'],
      [PRESENT.bbbbbbbbbbbb, 'offline-cache/demo/app:build'],
      [PRESENT.ffffffffffff, 'offline-cache/demo/app:final'],
    ]);
    expect(entry?.stages).toEqual([
      { target: 'deps', tag: 'offline-cache/demo/app:deps', id: PRESENT.aaaaaaaaaaaa },
      { target: 'build', tag: 'offline-cache/demo/app:build', id: PRESENT.bbbbbbbbbbbb },
      { target: 'final', tag: 'offline-cache/demo/app:final', id: PRESENT.ffffffffffff },
    ]);
  });

  it("with the service's target: only the stages its build reached", async () => {
    const build = await planned('build');
    const { engine, tags, builds } = fakeEngine(PRESENT);
    const [entry] = await tagStageImages(
      engine,
      [build],
      { app: recorded(output(2)) },
      options(build.build.context),
    );
    expect(builds).toEqual([]);
    expect(tags.map(([, tag]) => tag)).toEqual([
      'offline-cache/demo/app:deps',
      'offline-cache/demo/app:build',
    ]);
    expect(entry).toMatchObject({ target: 'build', stages: [{ target: 'deps' }, { target: 'build' }] });
  });

  it('builds a stage with target where the output does not line up with the Dockerfile, or its image is gone', async () => {
    const build = await planned();
    // Two stages in the output, three in the Dockerfile: no stage can be told apart; each is built.
    const mismatch = fakeEngine(PRESENT);
    await tagStageImages(
      mismatch.engine,
      [build],
      { app: recorded(output(2)) },
      options(build.build.context),
    );
    expect(mismatch.tags).toEqual([]);
    expect(mismatch.builds.map((b) => [b.target, b.tags])).toEqual([
      ['deps', ['offline-cache/demo/app:deps']],
      ['build', ['offline-cache/demo/app:build']],
      ['final', ['offline-cache/demo/app:final']],
    ]);
    // The build stage's image removed since (a prune): that stage alone is built again.
    const { bbbbbbbbbbbb: _gone, ...rest } = PRESENT;
    const pruned = fakeEngine(rest);
    const [entry] = await tagStageImages(
      pruned.engine,
      [build],
      { app: recorded(output(3)) },
      options(build.build.context),
    );
    expect(pruned.builds.map((b) => b.target)).toEqual(['build']);
    expect(entry?.stages.map((s) => s.id)).toEqual([
      PRESENT.aaaaaaaaaaaa,
      'sha256:built-build',
      PRESENT.ffffffffffff,
    ]);
  });
});
