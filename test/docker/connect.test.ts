import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/docker/connect.js';
import { requireDocker } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

describe('connectDocker', () => {
  it('fails with EDOCKER_UNREACHABLE naming the unix socket it tried', async () => {
    const socket = path.join(await tempDir(), 'no-engine-here.sock');
    const address = `unix://${socket}`;
    await expect(connectDocker({ DOCKER_HOST: address })).rejects.toMatchObject({
      code: 'EDOCKER_UNREACHABLE',
      file: address,
      message: expect.stringContaining(address),
      hint: expect.stringContaining('DOCKER_HOST'),
    });
  });

  it('fails with EDOCKER_UNREACHABLE naming a tcp address where nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const address = `tcp://127.0.0.1:${port}`;
    await expect(connectDocker({ DOCKER_HOST: address })).rejects.toMatchObject({
      code: 'EDOCKER_UNREACHABLE',
      message: expect.stringContaining(`${address} is unreachable (ECONNREFUSED)`),
    });
  });

  it('connects to the real engine from DOCKER_HOST and reports its version and data root', async () => {
    await requireDocker();
    const engine = await connectDocker();
    expect(engine.address).toBe(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
    const version = await engine.version();
    expect(version).toMatchObject({ os: 'linux', version: expect.stringMatching(/^\d+\./) });
    expect(version.apiVersion).toMatch(/^1\.\d+$/);
    expect(version.rootDir).toMatch(/^\//);
  });
});
