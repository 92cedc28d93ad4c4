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

let engine: DockerEngine;
let registry: TestRegistry;
let swarm: PrivateSwarm;
let fixture: Fixture;
let v2Fixture: Fixture;
let web: string;
let worker: string;

const compose = () => `version: "3.8"
services:
  web:
    image: ${web}
    configs:
      - source: index
        target: /var/www/index.html
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 30
  worker:
    image: ${worker}
configs:
  index:
    file: ./web/index.html
`;

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('offline-deploy');
  web = `${name}-web:1.0`;
  worker = `${name}-worker:1.0`;
  await buildImage(
    engine,
    `FROM ${docker.baseImage}\nRUN mkdir -p /var/www\nCMD ["httpd", "-f", "-p", "8080", "-h", "/var/www"]\n`,
    web,
  );
  // Labelled with its name: deploy-finishing.test.ts builds the same steps, and each file removes its own image.
  await buildImage(
    engine,
    `FROM ${docker.baseImage}\nLABEL offline.test.image=${worker}\nCMD ["sh", "-c", "sleep 3600"]\n`,
    worker,
  );
  fixture = await makeBundle({
    name: 'swarmdemo',
    engine,
    images: [web, worker],
    files: { 'stack/docker-compose.yml': compose(), 'stack/web/index.html': 'served from a swarm config\n' },
    manifest: (m) => ({
      ...m,
      services: [
        { name: 'web', image: web, built: true, healthcheck: true, profiles: [] },
        { name: 'worker', image: worker, built: true, healthcheck: false, profiles: [] },
      ],
    }),
  });
  v2Fixture = await makeBundle({
    name: 'swarmv2',
    engine,
    images: [worker],
    files: { 'stack/docker-compose.yml': `version: "2.4"\nservices:\n  worker:\n    image: ${worker}\n` },
    manifest: (m) => ({
      ...m,
      services: [{ name: 'worker', image: worker, built: true, healthcheck: false, profiles: [] }],
    }),
  });
  await removeImages(engine, [web, worker]);
  registry = await startRegistry();
  swarm = await startPrivateSwarm();
  // Past the 170 s the Swarm's lock may be waited for (another file's Swarm), after this file's own builds.
}, 400_000);

afterAll(async () => {
  await swarm?.stop();
  await registry?.stop();
  if (engine) await removeImages(engine, [web, worker]);
  await fixture?.cleanup();
  await v2Fixture?.cleanup();
});

describe('offline deploy --swarm', () => {
  it('pushes the bundle and runs its stack on a Swarm whose node pulls every image from the registry', async () => {
    const target = await tempDir();
    const stack = uniqueName('st');
    const result = await runCli(
      [
        'deploy',
        fixture.archive,
        '--swarm',
        '--registry',
        `${registry.host}/swarm`,
        '--insecure',
        '--target',
        target,
        '--name',
        stack,
        '--timeout',
        '60',
        '--json',
      ],
      { env: { DOCKER_HOST: swarm.host, OFFLINE_UPLOAD_STATE_DIR: path.join(target, '.state') } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = result.json as { stack: { services: { name: string; replicas: string }[] } };
    expect(json.stack.services.map((s) => `${s.name} ${s.replicas}`).sort()).toEqual([
      `${stack}_web 1/1`,
      `${stack}_worker 1/1`,
    ]);
    // The private engine started empty: each task runs the exported image, pulled from the registry.
    for (const [service, tag] of [
      ['web', web],
      ['worker', worker],
    ] as const) {
      const id = await swarm.task(`${stack}_${service}`);
      expect(id).not.toBe('');
      const image = (await swarm.docker(['inspect', '--format', '{{.Image}}', id])).trim();
      expect(image).toBe(fixture.manifest.images.find((i) => i.tags.includes(tag))?.id);
    }
    const webId = await swarm.task(`${stack}_web`);
    expect(await swarm.docker(['exec', webId, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/'])).toBe(
      'served from a swarm config\n',
    );
  });

  it('refuses without --swarm, and names an engine that is no Swarm manager', async () => {
    const target = await tempDir();
    const args = [
      'deploy',
      fixture.archive,
      '--registry',
      `${registry.host}/swarm`,
      '--insecure',
      '--target',
      target,
    ];
    const noSwarm = await runCli([...args, '--json']);
    expect(noSwarm.code).toBe(2);
    expect(noSwarm.json?.error).toMatchObject({ code: 'EUSAGE' });
    // The shared dev engine is no Swarm manager (and must never be made one).
    const notManager = await runCli([...args, '--swarm', '--json'], {
      env: { OFFLINE_UPLOAD_STATE_DIR: path.join(target, '.state') },
    });
    expect(notManager.code).toBe(1);
    expect(notManager.json?.error).toMatchObject({ code: 'EDOCKER' });
    expect(notManager.stderr).toMatch(/swarm/i);
  });

  it('names a compose file of format 2.x, which docker stack deploy cannot read', async () => {
    const target = await tempDir();
    const result = await runCli(
      [
        'deploy',
        v2Fixture.archive,
        '--swarm',
        '--registry',
        `${registry.host}/swarm`,
        '--insecure',
        '--target',
        target,
        '--json',
      ],
      { env: { DOCKER_HOST: swarm.host, OFFLINE_UPLOAD_STATE_DIR: path.join(target, '.state') } },
    );
    expect(result.code).toBe(1);
    expect(result.json?.error).toMatchObject({ code: 'EDOCKER', hint: expect.stringMatching(/3\.x/) });
    expect(result.stderr).toMatch(/2\.4/);
  });
});
