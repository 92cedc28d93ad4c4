import { Agent } from 'node:http';
import type Dockerode from 'dockerode';
import { OfflineError } from '../errors.js';
import { resolveDockerAddress } from './address.js';
import type { DockerEngine } from './engine.js';

const PING_TIMEOUT_MS = 5000;

/**
 * Builds the one dockerode client (from DOCKER_HOST, else the default socket) and proves the engine answers.
 * Throws EDOCKER_UNREACHABLE naming the address it tried.
 */
export async function connectDocker(env: NodeJS.ProcessEnv = process.env): Promise<DockerEngine> {
  const address = resolveDockerAddress(env);
  // Loaded here, not at start-up: dockerode and its dependencies cost a few hundred ms to load, which commands
  // that never reach the engine (verify, inspect, checksum, --help) should not pay.
  const { default: Dockerode } = await import('dockerode');
  const { DockerodeEngine } = await import('./dockerode-engine.js');
  const docker = new Dockerode({ ...address.options, ...plainAgent(address.options), timeout: undefined });
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('no answer in 5 s')), PING_TIMEOUT_MS).unref(),
      ),
    ]);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new OfflineError(
      'EDOCKER_UNREACHABLE',
      `Docker engine at ${address.label} is unreachable (${why})`,
      {
        file: address.label,
        hint: 'start the Docker engine, or set DOCKER_HOST to where it listens',
        cause: error,
      },
    );
  }
  return new DockerodeEngine(docker, address.label);
}

/**
 * For an engine without TLS (a unix socket, http://): an agent told there is no TLS server name. Otherwise
 * Node's agent works one out for every request, testing the host name against its IPv6 pattern, and the
 * first test compiles that pattern: 5-6 ms of every command's start-up on 2 cores (`net.isIPv6` timed in a
 * fresh process), for a name TLS would use and this connection never does.
 */
function plainAgent(options: Dockerode.DockerOptions): { agent?: Agent } {
  if (options.protocol === 'https') return {};
  return { agent: new Agent({ keepAlive: true, servername: '' } as ConstructorParameters<typeof Agent>[0]) };
}
