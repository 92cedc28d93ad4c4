import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { renderImportScript } from '../../src/selfcontained/import-script.js';
import { baseManifest, extractFixture, type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { removeImages } from '../support/docker.js';
import { fakeCompose } from '../support/fake-compose.js';
import { webImage } from '../support/web-stack.js';
import { runClean } from './clean-env.js';

// import.sh on a host without the docker compose plugin: a docker-compose 1.x gets no --pull (it refuses it), a
// standalone docker-compose 2.x (the static binary) gets --pull never, as `offline import --start` gives it.
describe('import.sh with docker-compose only', () => {
  let engine: DockerEngine;
  let project: string;
  let image: string;
  let fixture: Fixture;

  beforeAll(async () => {
    ({ engine, project, image } = await webImage('importshdc'));
    const shape = (m: Omit<BundleManifest, 'files'>) => ({
      ...m,
      compose: { ...m.compose, profiles: ['web'] },
    });
    const head = shape({
      ...baseManifest(project, '1.0.0', new Date('2026-01-01T00:00:00Z')),
      archives: [{ path: 'images/images.tar', kind: 'images', images: [] }],
    });
    const script = renderImportScript(head);
    fixture = await makeBundle({
      name: project,
      engine,
      images: [image],
      files: { 'import.sh': script, 'stack/docker-compose.yml': `services:\n  web:\n    image: ${image}\n` },
      manifest: (m) => {
        const shaped = shape(m);
        if (renderImportScript(shaped) !== script) throw new Error('import.sh made from another manifest');
        return shaped;
      },
    });
  });

  afterAll(async () => {
    await removeImages(engine, [image]);
    await fixture?.cleanup();
  });

  /** The start command import.sh prints, and the docker-compose calls of import.sh --start, with `version`. */
  async function importWith(version: string): Promise<{ hint: string; calls: string[] }> {
    const fake = await fakeCompose(version);
    const { root, dir } = await extractFixture(fixture);
    try {
      const env = { cwd: dir, path: `${fake.bin}:/usr/bin:/bin` };
      const run = await runClean('/bin/dash', ['import.sh'], env);
      expect(run.code, run.stderr).toBe(0);
      const hint = /Start it with this command.*\n {2}(.*)\n/.exec(run.stderr)?.[1] as string;
      const start = await runClean('/bin/dash', ['import.sh', '--start'], env);
      expect(start.code, start.stderr).toBe(0);
      return { hint, calls: await fake.calls() };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }

  it('asks a docker-compose 2.x its version and starts with --pull never', async () => {
    const { hint, calls } = await importWith('2.24.6');
    const up = `-p ${project} -f docker-compose.yml --profile web up -d --no-build --pull never`;
    expect(hint).toMatch(new RegExp(` && docker-compose ${up}$`));
    expect(calls.filter((c) => c.startsWith('version'))).toContain('version --short');
    expect(calls.filter((c) => !c.startsWith('version'))).toEqual([up]);
  });

  it('starts a docker-compose 1.x with no --pull', async () => {
    const { hint, calls } = await importWith('1.29.2');
    const up = `-p ${project} -f docker-compose.yml --profile web up -d --no-build`;
    expect(hint).toMatch(new RegExp(` && docker-compose ${up}$`));
    expect(calls.filter((c) => !c.startsWith('version'))).toEqual([up]);
  });
});
