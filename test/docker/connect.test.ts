import http from 'node:http';
import net, { createServer } from 'node:net';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { connectDocker, socketAgent } from '../../src/docker/connect.js';
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

  it("socketAgent: requests over a unix socket skip Node's server-name test, and the agent prints short", async () => {
    const socket = path.join(await tempDir(), 'engine.sock');
    const server = http.createServer((_req, res) => res.end('OK'));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    const isIP = vi.spyOn(net, 'isIP');
    const get = (agent: http.Agent) =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ socketPath: socket, path: '/_ping', agent }, (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => {
              body += chunk;
            });
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    try {
      // The control: an agent of Node's defaults tests the Host header ("localhost") for an IP address.
      expect(await get(new http.Agent({ keepAlive: false }))).toBe('OK');
      expect(isIP).toHaveBeenCalledWith('localhost');
      isIP.mockClear();
      const agent = socketAgent();
      expect(await get(agent)).toBe('OK');
      expect(await get(agent)).toBe('OK');
      expect(isIP).not.toHaveBeenCalled();
      expect(inspect(agent, { showHidden: true, depth: null })).toBe('Agent(unix socket)');
      agent.destroy();
    } finally {
      isIP.mockRestore();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
