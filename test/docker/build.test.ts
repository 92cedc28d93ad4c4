import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Dockerode from 'dockerode';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDockerAddress } from '../../src/docker/address.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

/** A build context tar made with the `tar` package from a Dockerfile and any other files. */
async function context(files: Record<string, string>): Promise<Readable> {
  const dir = await tempDir('offline-build-');
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  return tar.c({ cwd: dir, portable: true }, Object.keys(files)) as unknown as Readable;
}

/** Polls the engine (through DockerEngine.listContainers, as import does) until the health status settles. */
async function waitForHealth(engine: DockerEngine, label: string, want: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    const [container] = await engine.listContainers(label);
    last = container?.health;
    if (last === want) return last;
    if (last && last !== 'starting') return last;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return last;
}

describe('building on the busybox base image (real engine)', () => {
  let engine: DockerEngine;
  let baseImage: string;
  // Starting a long-running container is compose's job in the tool, so the engine interface has no such
  // method; these tests start one through dockerode directly.
  const docker = new Dockerode(resolveDockerAddress().options);
  const images: string[] = [];
  const containers: string[] = [];

  beforeAll(async () => {
    ({ engine, baseImage } = await requireDocker());
  });

  afterAll(async () => {
    for (const id of containers)
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => {});
    if (engine) await removeImages(engine, images);
  });

  async function startDetached(image: string, label: string): Promise<void> {
    const container = await docker.createContainer({
      Image: image,
      name: label,
      Labels: { 'offline.test': label },
      HostConfig: { NetworkMode: 'none' },
    });
    containers.push(container.id);
    await container.start();
  }

  it('RUNs shell commands in a build, and the result is in the image', async () => {
    const tag = `${uniqueName('offline-test/run')}:1`;
    images.push(tag);
    const steps: string[] = [];
    const id = await engine.buildImage(
      await context({
        Dockerfile: `FROM ${baseImage}\nCOPY hello.txt /hello.txt\nRUN echo "built on $(uname -s)" >> /hello.txt && mkdir -p /srv\n`,
        'hello.txt': 'hello\n',
      }),
      { tags: [tag] },
      (event) => {
        if (event.stream?.startsWith('Step ')) steps.push(event.stream.trim());
      },
    );
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(steps).toHaveLength(3);
    expect((await engine.inspectImage(tag))?.id).toBe(id);
    expect(await engine.runContainer(tag, ['cat', '/hello.txt'])).toEqual({
      exitCode: 0,
      output: 'hello\nbuilt on Linux\n',
    });
  });

  it('rejects a build whose RUN exits 1 with EDOCKER naming the failing step', async () => {
    const tag = `${uniqueName('offline-test/fails')}:1`;
    images.push(tag);
    const failure = engine.buildImage(
      await context({
        Dockerfile: `FROM ${baseImage}\nRUN echo fine\nRUN echo about to fail && exit 1\nRUN echo never\n`,
      }),
      { tags: [tag] },
    );
    await expect(failure).rejects.toMatchObject({
      code: 'EDOCKER',
      message: expect.stringMatching(
        /returned a non-zero code: 1 \(at Step 3\/4 : RUN echo about to fail && exit 1\)$/,
      ),
    });
    expect(await engine.inspectImage(tag)).toBeUndefined();
  });

  /** An image that serves /www with busybox httpd, and a HEALTHCHECK that greps the page for `marker`. */
  async function buildHttpdImage(prefix: string, marker: string, retries: number): Promise<string> {
    const tag = `${uniqueName(`offline-test/${prefix}`)}:1`;
    images.push(tag);
    const check = `wget -q -O - http://127.0.0.1:8080/ | grep -q ${marker}`;
    await engine.buildImage(
      await context({
        Dockerfile: [
          `FROM ${baseImage}`,
          'COPY index.html /www/index.html',
          `HEALTHCHECK --interval=1s --timeout=3s --retries=${retries} CMD ${check}`,
          'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
        ].join('\n'),
        'index.html': 'offline-ok\n',
      }),
      { tags: [tag] },
    );
    return tag;
  }

  it('serves HTTP with busybox httpd and turns healthy through a HEALTHCHECK', async () => {
    const tag = await buildHttpdImage('httpd', 'offline-ok', 20);
    const name = uniqueName('offline-test-httpd');
    await startDetached(tag, name);
    expect(await waitForHealth(engine, `offline.test=${name}`, 'healthy')).toBe('healthy');
    const [state] = await engine.listContainers(`offline.test=${name}`);
    expect(state).toMatchObject({ name, state: 'running', health: 'healthy' });
  });

  it('turns unhealthy when the HEALTHCHECK fails (the check is real)', async () => {
    const tag = await buildHttpdImage('sick', 'something-else', 2);
    const name = uniqueName('offline-test-sick');
    await startDetached(tag, name);
    expect(await waitForHealth(engine, `offline.test=${name}`, 'unhealthy')).toBe('unhealthy');
  });
});
