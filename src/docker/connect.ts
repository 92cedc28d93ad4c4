import { Agent, type AgentOptions } from 'node:http';
import { inspect } from 'node:util';
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
  const agent = address.options.socketPath === undefined ? undefined : socketAgent();
  const docker = new Dockerode({ ...address.options, ...(agent && { agent }), timeout: undefined });
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
 * The agent for an engine on a unix socket: the settings of Node 20's global agent, and an empty TLS server
 * name. Without one, Node works a server name out for every request, TLS or not, by testing the Host header
 * ("localhost") against its IPv6 pattern, whose first two runs took 5-8 ms in a bare script (two requests
 * over the engine's socket: 14-16 ms and 2-4 ms for the first and second, 8.6-10.3 ms for the first with the
 * name given; Node 20, 2 cores). docker-modem describes every request's options with util.inspect, however
 * deep, even with its debug output off: this agent prints as one word there, not as its sockets.
 */
export function socketAgent(): Agent {
  const options: AgentOptions & { servername: string } = {
    keepAlive: true,
    scheduling: 'lifo',
    timeout: 5000,
    servername: '',
  };
  const agent = new Agent(options);
  Object.defineProperty(agent, inspect.custom, { value: () => 'Agent(unix socket)' });
  return agent;
}
