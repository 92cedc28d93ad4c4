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
  const docker = new Dockerode({ ...address.options, timeout: undefined });
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
