import path from 'node:path';
import { runTool } from '../compose/run-tool.js';
import { OfflineError } from '../errors.js';
import { readEnvFile } from './env-file.js';

/**
 * `docker stack deploy -c <compose> -c <override> --with-registry-auth <name>` through the docker CLI (stacks have no
 * engine API), on the engine DOCKER_HOST names, which must be a Swarm manager. Swarm nodes then pull the images
 * from the registry the override names.
 */
export async function deployStack(name: string, composeFile: string, overrideFile: string): Promise<void> {
  const args = ['stack', 'deploy', '-c', composeFile, '-c', overrideFile, '--with-registry-auth', name];
  // docker stack deploy reads no .env: its variables (the generated secrets) go in the CLI's environment, where
  // the shell's own values win, as with compose.
  const fromFile = await readEnvFile(path.join(path.dirname(composeFile), '.env'));
  const run = await runTool('docker', args, {
    cwd: path.dirname(composeFile),
    env: { ...fromFile, ...process.env },
  });
  if (run.missing) {
    throw new OfflineError('EDOCKER', 'docker stack deploy needs the docker CLI, which is not installed', {
      hint: 'install the docker CLI on this host, or run the recipe in README.md on a Swarm manager',
    });
  }
  if (run.code !== 0) {
    const reason = run.stderr.trim().split('\n').at(-1) ?? `exit ${run.code}`;
    throw new OfflineError('EDOCKER', `docker stack deploy ${name}: ${reason}`, {
      file: composeFile,
      hint: /not a swarm manager/i.test(run.stderr)
        ? 'run it on a Swarm manager (docker swarm init)'
        : /unsupported Compose file version/i.test(run.stderr)
          ? 'docker stack deploy reads compose file format 3.x only; ship a version "3.x" compose file for Swarm'
          : undefined,
    });
  }
}
