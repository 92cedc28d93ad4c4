import path from 'node:path';
import { runTool } from '../compose/run-tool.js';
import { OfflineError } from '../errors.js';
import { readEnvFile } from './env-file.js';

export interface StackService {
  name: string;
  /** Running and wanted tasks, from `docker stack services` (e.g. 1/1). */
  replicas: string;
}

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

export async function stackServices(name: string): Promise<StackService[]> {
  const run = await runTool('docker', ['stack', 'services', name, '--format', '{{.Name}} {{.Replicas}}']);
  if (run.code !== 0)
    throw new OfflineError('EDOCKER', `docker stack services ${name}: ${run.stderr.trim()}`);
  return run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [service = '', replicas = ''] = line.split(' ');
      return { name: service, replicas };
    });
}

/** Waits until every service of the stack runs all its replicas (n/n), or fails with ETIMEOUT naming the rest. */
export async function waitForStack(name: string, timeoutSeconds: number): Promise<StackService[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const services = await stackServices(name);
    const pending = services.filter((s) => {
      const [running, wanted] = s.replicas.split('/').map((n) => Number.parseInt(n, 10));
      return running === undefined || wanted === undefined || running < wanted;
    });
    if (services.length > 0 && pending.length === 0) return services;
    if (Date.now() > deadline) {
      const reasons = await Promise.all(pending.map((s) => lastTaskState(s.name)));
      throw new OfflineError(
        'ETIMEOUT',
        `stack ${name}: not all services running after ${timeoutSeconds} s: ${pending
          .map((s, i) => `${s.name} ${s.replicas}${reasons[i] ? ` (${reasons[i]})` : ''}`)
          .join(', ')}`,
        { hint: `docker service ps --no-trunc ${pending[0]?.name ?? name} shows every task` },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** The newest task's state and error of a service, e.g. `Rejected 2 seconds ago: No such image: x:1`. */
async function lastTaskState(service: string): Promise<string> {
  const run = await runTool('docker', [
    'service',
    'ps',
    '--no-trunc',
    '--format',
    '{{.CurrentState}}\t{{.Error}}',
    service,
  ]);
  if (run.code !== 0) return '';
  const [state = '', error = ''] = (run.stdout.split('\n')[0] ?? '').split('\t');
  return error ? `${state}: ${error}` : state;
}
