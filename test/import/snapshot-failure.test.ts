import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Output } from '../../src/cli/output.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { runImport } from '../../src/import/run-import.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { dockerfileContext, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

let engine: DockerEngine;
let fixture: Fixture;
let tag: string;

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('snapfail');
  tag = `offline-test/${name}:1`;
  await engine.buildImage(dockerfileContext(`FROM ${docker.baseImage}\nRUN echo ${name} > /name\n`), {
    tags: [tag],
  });
  fixture = await makeBundle({
    name,
    engine,
    images: [tag],
    files: { 'stack/docker-compose.yml': 'services: {}\n' },
  });
  // The bundle's image is not in the engine: the import would load it.
  await engine.removeImage(tag, { force: true });
});

afterAll(async () => {
  await removeImages(engine, [tag]);
  await fixture?.cleanup();
});

const quiet: Output = { json: true, debug: false, info: () => {}, warn: () => {} };

// The engine's image list is asked for when the import starts and awaited once the bundle's head is read, after
// the target folders are made: its failure must undo those, and nothing may have been loaded by then.
it("the engine's image list failing part-way: the error, the target folders removed, nothing loaded", async () => {
  const failing = Object.create(engine) as DockerEngine;
  const gone = new Error('the engine went away while listing images');
  let loads = 0;
  failing.listImages = () => new Promise((_, reject) => setTimeout(() => reject(gone), 20));
  failing.loadImages = (...args) => {
    loads++;
    return engine.loadImages(...args);
  };
  const parent = await tempDir();
  const target = path.join(parent, 'made', 'target');

  await expect(
    runImport({ bundle: fixture.archive, target, start: false, timeout: 60, force: false }, failing, quiet),
  ).rejects.toBe(gone);

  expect(await readdir(parent)).toEqual([]);
  expect(loads).toBe(0);
  expect(await engine.inspectImage(tag)).toBeUndefined();
});
