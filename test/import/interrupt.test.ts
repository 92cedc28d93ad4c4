import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { dockerfileContext, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { recordEngineRequests } from '../support/engine-recorder.js';
import { tempDir } from '../support/temp-dir.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let engine: DockerEngine;
const images: string[] = [];
/** The same three images in a bundle in the engine's order (one load request) and one in load order. */
const fixtures: Record<'engine' | 'load', Fixture> = {} as never;

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('interrupt');
  // Three images with 24 MB layers of their own: loading them takes long enough to be interrupted part-way.
  for (const n of [1, 2, 3]) {
    const tag = `offline-test/${name}-${n}:1`;
    await engine.buildImage(
      dockerfileContext(
        `FROM ${docker.baseImage}\nRUN echo ${name} && head -c 24000000 /dev/urandom > /data-${n}\n`,
      ),
      { tags: [tag] },
    );
    images.push(tag);
  }
  for (const order of ['engine', 'load'] as const) {
    fixtures[order] = await makeBundle({
      name: uniqueName('interrupted'),
      engine,
      images,
      loadOrder: order === 'load',
      files: { 'stack/docker-compose.yml': 'services: {}\n' },
    });
  }
}, 180_000);

afterAll(async () => {
  await removeImages(engine, images);
  await Promise.all(Object.values(fixtures).map((f) => f.cleanup()));
});

describe('import interrupted by Ctrl-C (or SIGTERM)', () => {
  it.each([
    ['engine', 'SIGINT', 130],
    ['load', 'SIGINT', 130],
    ['load', 'SIGTERM', 143],
    ['load', 'SIGHUP', 129],
  ] as const)(
    'once an image is in the engine (%s order), %s: exit %i, every image it loaded removed, nothing written',
    async (order, signal, exitCode) => {
      const fixture = fixtures[order];
      await removeImages(engine, images);
      const target = await tempDir();
      // In the engine's order, the engine tags the images at the end of the one load: its answer waits in the
      // recorder until the import has taken the signal, so however slow this host, the signal comes while the
      // import is loading. In load order, an image shows after the first of several loads, with more to come.
      const recorder = await recordEngineRequests(
        order === 'engine' ? { holdResponsesTo: /^\/images\/load$/ } : {},
      );
      onTestFinished(() => recorder.close());
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'import', fixture.archive, '--target', target],
        {
          cwd: root,
          env: { ...process.env, OFFLINE_SILENT: '1', DOCKER_HOST: recorder.dockerHost },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      // 'close': the exit code once stderr has been read to its end.
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Ctrl-C as soon as the engine has one of the bundle's images.
      let loaded = false;
      for (let i = 0; i < 1200 && !loaded; i++) {
        for (const tag of images) loaded ||= (await engine.inspectImage(tag)) !== undefined;
        if (!loaded) await new Promise((r) => setTimeout(r, 25));
      }
      expect(loaded, 'an image appeared in the engine during the import').toBe(true);
      // A closed terminal (SIGHUP): every later write to stderr fails, as it does on a hung-up tty.
      if (signal === 'SIGHUP') child.stderr.destroy();
      child.kill(signal);
      // Once the import says it took the signal, the held answer to the load may go on to it.
      if (order === 'engine') {
        for (let i = 0; i < 400 && !stderr.includes('interrupted ('); i++) {
          await new Promise((r) => setTimeout(r, 25));
        }
        recorder.release();
      }
      expect(await exited, stderr).toBe(exitCode);
      if (signal !== 'SIGHUP') expect(stderr).toContain(`interrupted (${signal})`);
      for (const tag of images) expect(await engine.inspectImage(tag), tag).toBeUndefined();
      expect(await readdir(target)).toEqual([]);
    },
  );
});
