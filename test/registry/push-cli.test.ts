import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';
import { type CountingProxy, startCountingProxy } from './support/counting-proxy.js';
import { buildImage } from './support/images.js';
import { startRegistry, type TestRegistry } from './support/registry-server.js';

// A stack whose compose file names its images the long way (docker.io/library/..., docker.io/user/...): the
// bundle's manifest keeps those names, the image archive's RepoTags are Docker's short ones.
let engine: DockerEngine;
let registry: TestRegistry;
let proxy: CountingProxy;
let fixture: Fixture;
let lib: string;
let hub: string;
let base: string;

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('offline-pushcli');
  lib = `docker.io/library/${name}-lib:1`;
  hub = `docker.io/${name}user/${name}-hub:1`;
  base = `${name}-base:1`;
  await buildImage(engine, `FROM ${docker.baseImage}\nRUN echo ${name} > /name\n`, base);
  const id = (await engine.inspectImage(base))?.id as string;
  for (const ref of [lib, hub]) {
    const at = ref.lastIndexOf(':');
    await engine.tagImage(base, ref.slice(0, at), ref.slice(at + 1));
  }
  fixture = await makeBundle({
    name: 'pushcli',
    engine,
    images: [lib, hub, base],
    files: {
      'stack/docker-compose.yml': `version: "3.8"\nservices:\n  lib:\n    image: ${lib}\n  hub:\n    image: ${hub}\n  base:\n    image: ${base}\n`,
    },
    manifest: (m) => ({
      ...m,
      images: [{ ...(m.images[0] as (typeof m.images)[0]), tags: [lib, hub, base] }],
      archives: [{ ...(m.archives[0] as (typeof m.archives)[0]), images: [id] }],
      services: [
        { name: 'lib', image: lib, built: false, healthcheck: false, profiles: [] },
        { name: 'hub', image: hub, built: false, healthcheck: false, profiles: [] },
        { name: 'base', image: base, built: false, healthcheck: false, profiles: [] },
      ],
    }),
  });
  registry = await startRegistry();
  proxy = await startCountingProxy(registry.host);
});

afterAll(async () => {
  await removeImages(engine, [lib, hub, base]);
  await proxy?.close();
  await registry?.stop();
  await fixture?.cleanup();
});

describe('offline push, import --registry and deploy from the command line', () => {
  it('points every service at the registry in the override, beside the stack and in --compose-override, as import --registry does', async () => {
    const dir = await tempDir();
    const where = `${registry.host}/cli`;
    const override = path.join(dir, 'override.yml');
    const stack = path.join(dir, 'stack');
    const push = await runCli(
      [
        'push',
        fixture.archive,
        '--registry',
        where,
        '--insecure',
        '--target',
        stack,
        '--compose-override',
        override,
        '--json',
      ],
      { env: { OFFLINE_UPLOAD_STATE_DIR: path.join(dir, 'state') } },
    );
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const services = (text: string) => text.slice(text.indexOf('services:'));
    const written = await readFile(override, 'utf8');
    expect(services(written)).toBe(
      `services:\n  lib:\n    image: ${where}/${lib.split('/').pop()}\n  hub:\n    image: ${where}/${hub.split('/').slice(1).join('/')}\n  base:\n    image: ${where}/${base}\n`,
    );
    // --target is the folder copied to every host: the override goes there too.
    expect(await readFile(path.join(stack, 'docker-compose.registry.yml'), 'utf8')).toBe(written);
    expect(push.json).toMatchObject({
      composeOverride: override,
      stackOverride: path.join(stack, 'docker-compose.registry.yml'),
    });

    const host = path.join(dir, 'host');
    const imported = await runCli(['import', fixture.archive, '--registry', where, '--target', host]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(services(await readFile(path.join(host, 'docker-compose.registry.yml'), 'utf8'))).toBe(
      services(written),
    );
  });

  it('refuses bad numbers and addresses with EUSAGE naming the option', async () => {
    const push = ['push', fixture.archive, '--insecure', '--json'];
    const cases: [string[], RegExp][] = [
      [['--registry', '127.0.0.1:99999'], /--registry "127\.0\.0\.1:99999": port 99999/],
      [['--registry', '127.0.0.1:0/x'], /port 0 /],
      [
        ['--registry', registry.host, '--chunk-size', 'abc'],
        /--chunk-size "abc" is not a size of at least 1M/,
      ],
      [['--registry', registry.host, '--chunk-size', '1.5'], /--chunk-size "1\.5"/],
      [
        ['--registry', registry.host, '--request-timeout', '2s'],
        /--request-timeout "2s" is not a positive whole/,
      ],
      // Beyond what a timer can wait it would fire at once: every request would time out.
      [
        ['--registry', registry.host, '--request-timeout', '3000000'],
        /--request-timeout "3000000" is longer than 24 days/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli([...push, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.json?.error).toMatchObject({ code: 'EUSAGE', message: expect.stringMatching(message) });
    }
    const target = await tempDir();
    for (const args of [
      [
        'deploy',
        fixture.archive,
        '--swarm',
        '--registry',
        registry.host,
        '--target',
        target,
        '--timeout',
        '3m',
      ],
      ['import', fixture.archive, '--target', target, '--timeout', '3m'],
    ]) {
      const result = await runCli([...args, '--json']);
      expect(result.code, args[0]).toBe(2);
      expect(result.json?.error).toMatchObject({
        code: 'EUSAGE',
        message: expect.stringMatching(/--timeout "3m"/),
      });
    }
  });

  it('gives up on a registry that stops answering after --request-timeout seconds, with EREGISTRY', async () => {
    const dir = await tempDir();
    proxy.hold = (r) => r.method === 'PATCH';
    try {
      const result = await runCli(
        [
          'push',
          fixture.archive,
          '--registry',
          `${proxy.host}/stall`,
          '--insecure',
          '--request-timeout',
          // Enough that the requests passed on to the registry (HEAD, POST) never reach it on a busy host.
          '3',
          '--json',
        ],
        { env: { OFFLINE_UPLOAD_STATE_DIR: path.join(dir, 'state') } },
      );
      expect(result.code).toBe(1);
      expect(result.json?.error).toMatchObject({
        code: 'EREGISTRY',
        message: expect.stringMatching(/^PATCH .* nothing sent or received for 3 s/),
      });
    } finally {
      proxy.hold = undefined;
    }
  });
});
