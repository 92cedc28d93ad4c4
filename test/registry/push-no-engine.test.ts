import { mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { ExitCode } from '../../src/errors.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { dockerfileContext, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';
import { fetchManifest } from './support/images.js';
import { startRegistry, type TestRegistry } from './support/registry-server.js';

// Issue 7: push speaks the registry API from the bundle's contents, "so it works on a host with no Docker engine".
const NO_ENGINE = 'unix:///nonexistent.sock';

let engine: DockerEngine;
let registry: TestRegistry;
let fixture: Fixture;
let name: string;
let app: string;
const pulled: string[] = [];

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  name = uniqueName('offline-push-noengine');
  app = `${name}-app:1.0`;
  await engine.buildImage(
    dockerfileContext(
      `FROM ${docker.baseImage}\nRUN echo ${name} > /name && head -c 200000 /dev/urandom > /data\n`,
    ),
    { tags: [app] },
  );
  fixture = await makeBundle({
    name: 'noengine',
    engine,
    images: [app],
    files: { 'stack/docker-compose.yml': `version: "3.8"\nservices:\n  app:\n    image: ${app}\n` },
    manifest: (m) => ({
      ...m,
      services: [{ name: 'app', image: app, built: true, healthcheck: false, profiles: [] }],
    }),
  });
  await removeImages(engine, [app]);
  registry = await startRegistry();
});

afterAll(async () => {
  await removeImages(engine, [...pulled, app]);
  await registry?.stop();
  await fixture?.cleanup();
});

/** An environment with no engine (DOCKER_HOST a socket that does not exist) and no docker CLI on PATH. */
async function hostWithoutDocker(dir: string): Promise<NodeJS.ProcessEnv> {
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await symlink(process.execPath, path.join(bin, 'node'));
  return { DOCKER_HOST: NO_ENGINE, PATH: bin, OFFLINE_UPLOAD_STATE_DIR: path.join(dir, 'state') };
}

describe('offline push on a host with no Docker engine', () => {
  it('pushes every image with its exported ID and writes the compose override', async () => {
    const dir = await tempDir();
    const env = await hostWithoutDocker(dir);
    // The same environment really has no engine: a command that needs one exits 4 naming the address.
    const control = await runCli(['import', fixture.archive, '--target', path.join(dir, 'target')], { env });
    expect(control.code).toBe(ExitCode.dockerUnreachable);
    expect(control.stderr).toContain(NO_ENGINE);

    const override = path.join(dir, 'docker-compose.registry.yml');
    const where = `${registry.host}/${name}`;
    const result = await runCli(
      ['push', fixture.archive, '--registry', where, '--insecure', '--compose-override', override, '--json'],
      { env },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(ExitCode.ok);
    expect((result.json as { images: unknown[] }).images).toHaveLength(1);

    const id = fixture.manifest.images[0]?.id;
    const { manifest } = await fetchManifest(registry.host, `${name}/${app.split(':')[0]}`, '1.0');
    expect(manifest?.config.digest).toBe(id);
    expect(await readFile(override, 'utf8')).toContain(`image: ${where}/${app}`);
    // Every blob is there: the engine pulls the image, with the exported ID.
    const ref = `${where}/${app}`;
    pulled.push(ref);
    await engine.pullImage(ref);
    expect((await engine.inspectImage(ref))?.id).toBe(id);
  });
});
