import { describe, expect, it } from 'vitest';
import { DEFAULT_SOCKET, resolveDockerAddress } from '../../src/docker/address.js';

describe('resolveDockerAddress', () => {
  it('uses the default unix socket when DOCKER_HOST is unset or blank', () => {
    for (const env of [{}, { DOCKER_HOST: '' }, { DOCKER_HOST: '  ' }]) {
      expect(resolveDockerAddress(env)).toEqual({
        label: `unix://${DEFAULT_SOCKET}`,
        options: { socketPath: DEFAULT_SOCKET },
      });
    }
  });

  it('reads a unix:// socket path', () => {
    expect(resolveDockerAddress({ DOCKER_HOST: 'unix:///tmp/dockerd-x/docker.sock' })).toEqual({
      label: 'unix:///tmp/dockerd-x/docker.sock',
      options: { socketPath: '/tmp/dockerd-x/docker.sock' },
    });
  });

  it('reads tcp:// as plain HTTP, with 2375 as the default port', () => {
    expect(resolveDockerAddress({ DOCKER_HOST: 'tcp://10.0.0.5:2380' })).toEqual({
      label: 'tcp://10.0.0.5:2380',
      options: { host: '10.0.0.5', port: 2380, protocol: 'http' },
    });
    expect(resolveDockerAddress({ DOCKER_HOST: 'tcp://docker.local' }).options).toEqual({
      host: 'docker.local',
      port: 2375,
      protocol: 'http',
    });
  });

  it('reads tcp:// as HTTPS with 2376 as the default port when DOCKER_TLS_VERIFY is set', () => {
    expect(
      resolveDockerAddress({ DOCKER_HOST: 'tcp://docker.local', DOCKER_TLS_VERIFY: '1' }).options,
    ).toEqual({
      host: 'docker.local',
      port: 2376,
      protocol: 'https',
    });
  });

  it('refuses any other scheme with EUSAGE naming the value', () => {
    expect(() => resolveDockerAddress({ DOCKER_HOST: 'ssh://me@host' })).toThrow(
      expect.objectContaining({ code: 'EUSAGE', found: 'ssh://me@host' }),
    );
  });
});
