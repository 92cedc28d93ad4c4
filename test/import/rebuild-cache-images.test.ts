import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { BuildOptions, DockerEngine } from '../../src/docker/engine.js';
import { runRebuild } from '../../src/import/rebuild.js';
import { baseManifest } from '../support/bundle-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const BASE = 'offline-base/busybox:latest';
const DEPS = 'offline-cache/demo/app:deps';
const UNUSED = 'offline-cache/demo/app:unused';

/** A folder as `offline import` leaves it for a rebuild: the manifest copy and the app's context. */
async function importedTarget(): Promise<string> {
  const target = await tempDir();
  const manifest: BundleManifest = {
    ...baseManifest('demo', '1.0.0', new Date(0)),
    services: [
      { name: 'app', image: 'demo_app:latest', built: true, healthcheck: false, profiles: [] },
      { name: 'job', image: 'busybox:1.36', built: false, healthcheck: false, profiles: [] },
    ],
    buildCaches: [
      {
        service: 'app',
        context: 'stack/app',
        dockerfile: 'Dockerfile',
        target: 'deps',
        stages: [
          { target: 'deps', tag: DEPS, id: 'sha256:1' },
          { target: 'unused', tag: UNUSED, id: 'sha256:2' },
        ],
        bases: [BASE],
      },
    ],
    files: [],
  };
  await mkdir(path.join(target, '.offline'), { recursive: true });
  await writeFile(path.join(target, '.offline/manifest.json'), JSON.stringify(manifest));
  await mkdir(path.join(target, 'app'));
  await writeFile(path.join(target, 'app/Dockerfile'), `FROM ${BASE} AS deps\nFROM ${BASE} AS unused\n`);
  return target;
}

/** An engine holding just `present`; a build records its options. */
function fakeEngine(present: string[]): { engine: DockerEngine; builds: BuildOptions[] } {
  const builds: BuildOptions[] = [];
  const engine = {
    inspectImage: async (ref: string) =>
      present.includes(ref)
        ? { id: `sha256:${ref}`, os: 'linux', architecture: 'amd64', size: 1 }
        : undefined,
    buildImage: async (context: Readable, options: BuildOptions) => {
      context.resume();
      builds.push(options);
      return 'sha256:new';
    },
  } as unknown as DockerEngine;
  return { engine, builds };
}

describe('rebuild: which build cache images it needs', () => {
  it('warns about a missing stage image, leaves it out of cachefrom and builds', async () => {
    const target = await importedTarget();
    const { engine, builds } = fakeEngine([BASE, DEPS]);
    const warnings: string[] = [];
    const result = await runRebuild(
      engine,
      { service: 'app', target },
      { onWarning: (message) => warnings.push(message) },
    );
    expect(result.cacheFrom).toEqual([DEPS, BASE]);
    expect(builds[0]).toMatchObject({ cacheFrom: [DEPS, BASE], target: 'deps', pull: false });
    expect(warnings).toEqual([expect.stringContaining(UNUSED)]);
    expect(warnings[0]).toContain('re-run `offline import` of this bundle to load its build cache again');
  });

  it('refuses when a FROM base is missing (the build does not pull), with the re-import hint', async () => {
    const target = await importedTarget();
    const { engine, builds } = fakeEngine([DEPS, UNUSED]);
    await expect(runRebuild(engine, { service: 'app', target })).rejects.toMatchObject({
      code: 'EMISSING',
      file: BASE,
      hint: 're-run `offline import` of this bundle to load its build cache again',
    });
    expect(builds).toEqual([]);
  });

  it('a service with no build: section is not built from source, whatever the export options', async () => {
    const target = await importedTarget();
    const { engine } = fakeEngine([BASE, DEPS, UNUSED]);
    const error = await runRebuild(engine, { service: 'job', target }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EUSAGE', file: 'job' });
    expect((error as Error).message).toContain('not built from source');
    expect((error as Error).message).not.toContain('--build-cache');
  });

  it('a --context that is not a folder is EUSAGE naming it, before any build', async () => {
    const target = await importedTarget();
    const { engine, builds } = fakeEngine([BASE, DEPS, UNUSED]);
    const missing = path.join(target, 'nope');
    await expect(runRebuild(engine, { service: 'app', target, context: missing })).rejects.toMatchObject({
      code: 'EUSAGE',
      file: missing,
      message: `${missing}: no such folder`,
    });
    const file = path.join(target, 'app/Dockerfile');
    await expect(runRebuild(engine, { service: 'app', target, context: file })).rejects.toMatchObject({
      code: 'EUSAGE',
      message: `${file}: not a folder`,
    });
    expect(builds).toEqual([]);
  });
});
