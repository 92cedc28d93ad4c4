import { execFileSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { ExitCode } from '../../src/errors.js';
import { startRegistry, type TestRegistry } from '../registry/support/registry-server.js';
import { runCli } from '../support/cli.js';
import { dockerfileContext, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { addPlatformVariant } from '../support/multi-platform.js';
import { tempDir } from '../support/temp-dir.js';

// Issue 4, step 3: third-party images are pulled by a pull policy (`missing` default: use the local image if
// present; `always`; `never`), with `--platform` honoured. The images come from Debian's docker-registry on
// 127.0.0.1: under one tag the registry holds a newer image than the engine.

describe('offline export: pull policy and --platform (real engine, local registry)', () => {
  let engine: DockerEngine;
  let registry: TestRegistry;
  let repository: string;
  /** The image ID under `${repository}:1` in the engine (old) and in the registry (new). */
  let oldId: string;
  let newId: string;
  /** The linux/arm64 image of the `${repository}:multi` manifest list (whose amd64 image is newId). */
  let armId: string;
  const cleanup: string[] = [];

  const ref = (tag: string) => `${repository}:${tag}`;

  beforeAll(async () => {
    const docker = await requireDocker();
    engine = docker.engine;
    registry = await startRegistry();
    const name = uniqueName('pull-policy');
    repository = `${registry.host}/offline-test/${name}`;
    const build = (version: string) =>
      engine.buildImage(
        dockerfileContext(`FROM ${docker.baseImage}\nRUN echo ${name} ${version} > /version\n`),
        { tags: [`offline-test/${name}:${version}`] },
      );
    oldId = await build('old');
    newId = await build('new');
    cleanup.push(`offline-test/${name}:old`, `offline-test/${name}:new`, ref('1'), ref('multi'));
    // The registry gets the new image under :1; the engine keeps the old one under that tag.
    await engine.tagImage(newId, repository, '1');
    await engine.pushImage(ref('1'));
    armId = await addPlatformVariant(registry.host, `offline-test/${name}`, '1', 'multi', 'arm64');
    cleanup.push(armId);
  });

  afterAll(async () => {
    if (engine) await removeImages(engine, cleanup);
    await registry?.stop();
  });

  interface Exported {
    code: number;
    stderr: string;
    error?: { code: string; file?: string; expected?: string; found?: string };
    /** The bundle's manifest.json, when the export succeeded. */
    manifest?: BundleManifest;
  }

  /** `offline export` of a stack whose one service runs `image`, with `flags`. */
  async function exportStack(image: string, ...flags: string[]): Promise<Exported> {
    const stack = await tempDir();
    const out = await tempDir();
    await writeFile(path.join(stack, 'docker-compose.yml'), `services:\n  app:\n    image: ${image}\n`);
    const name = uniqueName('policy-export');
    const args = ['export', '-f', path.join(stack, 'docker-compose.yml'), '--name', name, '--out', out];
    const result = await runCli([...args, '--json', ...flags]);
    const json = result.json as { archive?: string; error?: Exported['error'] } | undefined;
    const manifest = json?.archive
      ? (JSON.parse(
          execFileSync('tar', ['-xzOf', json.archive, `${name}-0.0.0/manifest.json`], { encoding: 'utf8' }),
        ) as BundleManifest)
      : undefined;
    if (!manifest) expect(await readdir(out), 'a failed export leaves no bundle').toEqual([]);
    return {
      code: result.code,
      stderr: result.stderr,
      ...(json?.error && { error: json.error }),
      ...(manifest && { manifest }),
    };
  }

  const bundled = (exported: Exported, image: string) =>
    exported.manifest?.images.find((i) => i.tags.includes(image));

  it('missing (the default) exports the local image; always pulls the newer one from the registry', async () => {
    await engine.tagImage(oldId, repository, '1');

    const missing = await exportStack(ref('1'));
    expect(missing.code, missing.stderr.slice(-2000)).toBe(ExitCode.ok);
    expect(bundled(missing, ref('1'))?.id).toBe(oldId);
    expect((await engine.inspectImage(ref('1')))?.id).toBe(oldId);

    const always = await exportStack(ref('1'), '--pull', 'always');
    expect(always.code, always.stderr.slice(-2000)).toBe(ExitCode.ok);
    expect(bundled(always, ref('1'))?.id).toBe(newId);
    expect((await engine.inspectImage(ref('1')))?.id).toBe(newId);
  });

  it('--platform pulls that platform of a multi-platform tag, even with another platform present locally', async () => {
    // Control: with no --platform the engine pulls its own platform's image (the amd64 one, newId).
    const native = await exportStack(ref('multi'), '--pull', 'always');
    expect(native.code, native.stderr.slice(-2000)).toBe(ExitCode.ok);
    expect(bundled(native, ref('multi'))).toMatchObject({ id: newId, os: 'linux', architecture: 'amd64' });

    // The amd64 image is now present under the tag; `missing` must still pull, since it is not linux/arm64.
    const arm = await exportStack(ref('multi'), '--platform', 'linux/arm64');
    expect(arm.code, arm.stderr.slice(-2000)).toBe(ExitCode.ok);
    expect(bundled(arm, ref('multi'))).toMatchObject({ id: armId, os: 'linux', architecture: 'arm64' });
  });

  it('--platform that the registry does not have for the image: EPLATFORM naming the image and both platforms', async () => {
    // The tag holds one linux/amd64 image (no list). Docker 20.10 pulls it anyway; the export checks what came.
    const result = await exportStack(ref('1'), '--pull', 'always', '--platform', 'linux/arm64');
    expect(result.code).toBe(ExitCode.failure);
    expect(result.error).toMatchObject({
      code: 'EPLATFORM',
      file: ref('1'),
      expected: 'linux/arm64',
      found: 'linux/amd64',
    });
    expect(result.stderr).toContain(`EPLATFORM: pull ${ref('1')}: got linux/amd64`);
  });
});
