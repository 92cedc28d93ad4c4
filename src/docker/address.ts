import type Dockerode from 'dockerode';
import { OfflineError } from '../errors.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface DockerAddress {
  /** What a user reads in messages: "unix:///var/run/docker.sock", "tcp://127.0.0.1:2375". */
  label: string;
  options: Dockerode.DockerOptions;
}

/** Where the engine is: DOCKER_HOST (unix://, tcp://, http(s)://) or the default unix socket. */
export function resolveDockerAddress(env: NodeJS.ProcessEnv = process.env): DockerAddress {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { label: `unix://${DEFAULT_SOCKET}`, options: { socketPath: DEFAULT_SOCKET } };
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    return { label: host, options: { socketPath } };
  }
  if (/^(tcp|http|https):\/\//.test(host)) {
    const url = new URL(host.replace(/^tcp:/, env.DOCKER_TLS_VERIFY ? 'https:' : 'http:'));
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return {
      label: host,
      options: {
        host: url.hostname,
        port: Number(url.port || (protocol === 'https' ? 2376 : 2375)),
        protocol,
      },
    };
  }
  throw new OfflineError('EUSAGE', `DOCKER_HOST="${host}" is not a unix://, tcp:// or http(s):// address`, {
    found: host,
  });
}
