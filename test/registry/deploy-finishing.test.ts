import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';
import { buildImage } from './support/images.js';
import { type PrivateSwarm, startPrivateSwarm } from './support/private-swarm.js';
import { startRegistry, type TestRegistry } from './support/registry-server.js';

// Services that end by design, or fail for good, on a real Swarm: `offline deploy` must not wait out --timeout
// for them (it used to wait for n/n running, which a job or a restart-none service never shows). The broken
// service runs a second before it fails: deploy once took its 1/1 of that second, with web's, for success.
// Each whole run (push, stack deploy, wait) must end before --timeout alone would have passed.
const TIMEOUT = 90;

let engine: DockerEngine;
let registry: TestRegistry;
let swarm: PrivateSwarm;
let image: string;
let finishing: Fixture;
let broken: Fixture;

const service = (command: string, deploy: string) => `
    image: ${image}
    command: ["sh", "-c", "${command}"]
    deploy:
${deploy}`;

const finishingCompose = () => `version: "3.8"
services:
  web:${service('sleep 3600', '      replicas: 1')}
  migrate:${service('sleep 1; exit 0', '      mode: replicated-job')}
  seed:${service('exit 0', '      restart_policy:\n        condition: none')}
`;

const brokenCompose = () => `version: "3.8"
services:
  web:${service('sleep 3600', '      replicas: 1')}
  broken:${service('sleep 1; echo cannot start >&2; exit 1', '      restart_policy:\n        condition: none')}
`;

function bundle(name: string, compose: string, services: string[]): Promise<Fixture> {
  return makeBundle({
    name,
    engine,
    images: [image],
    files: { 'stack/docker-compose.yml': compose },
    manifest: (m) => ({
      ...m,
      services: services.map((s) => ({ name: s, image, built: true, healthcheck: false, profiles: [] })),
    }),
  });
}

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  image = `${uniqueName('offline-finishing')}-task:1.0`;
  // Labelled with its name: deploy.test.ts builds the same steps, and each file removes its own image.
  await buildImage(
    engine,
    `FROM ${docker.baseImage}\nLABEL offline.test.image=${image}\nCMD ["sh", "-c", "sleep 3600"]\n`,
    image,
  );
  finishing = await bundle('finishing', finishingCompose(), ['web', 'migrate', 'seed']);
  broken = await bundle('brokenstack', brokenCompose(), ['web', 'broken']);
  await removeImages(engine, [image]);
  registry = await startRegistry();
  swarm = await startPrivateSwarm();
  // Past the 170 s the Swarm's lock may be waited for (another file's Swarm), after this file's own builds.
}, 400_000);

afterAll(async () => {
  await swarm?.stop();
  await registry?.stop();
  if (engine) await removeImages(engine, [image]);
  await finishing?.cleanup();
  await broken?.cleanup();
});

async function deploy(fixture: Fixture, stack: string) {
  const target = await tempDir();
  const started = Date.now();
  const result = await runCli(
    [
      'deploy',
      fixture.archive,
      '--swarm',
      '--registry',
      `${registry.host}/finishing`,
      '--insecure',
      '--target',
      target,
      '--name',
      stack,
      '--timeout',
      String(TIMEOUT),
      '--json',
    ],
    { env: { DOCKER_HOST: swarm.host, OFFLINE_UPLOAD_STATE_DIR: path.join(target, '.state') } },
  );
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

describe('offline deploy --swarm, services that end', () => {
  it('returns as soon as a replicated job and a restart-none service have exited 0, the rest running', async () => {
    const stack = uniqueName('fin');
    const result = await deploy(finishing, stack);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.seconds).toBeLessThan(TIMEOUT);
    const json = result.json as { stack: { services: { name: string; replicas: string; state: string }[] } };
    expect(json.stack.services.map((s) => `${s.name} ${s.replicas} ${s.state}`).sort()).toEqual([
      `${stack}_migrate 0/1 (1/1 completed) completed`,
      `${stack}_seed 0/1 completed`,
      `${stack}_web 1/1 running`,
    ]);
  }, 150_000);

  it('fails at once with ESTART naming a restart-none service whose task ran a second, then exited 1', async () => {
    const stack = uniqueName('brk');
    const result = await deploy(broken, stack);
    expect(result.code).toBe(1);
    expect(result.seconds).toBeLessThan(TIMEOUT);
    expect(result.json?.error).toMatchObject({
      code: 'ESTART',
      file: `${stack}_broken`,
      message: expect.stringContaining(`${stack}_broken stopped for good: its restart_policy condition none`),
      found: expect.stringMatching(/^Failed .*: task: non-zero exit \(1\)$/),
      hint: expect.stringContaining(`docker service ps --no-trunc ${stack}_broken`),
    });
    expect(result.stderr).toContain(`${stack}_broken`);
  }, 150_000);
});
