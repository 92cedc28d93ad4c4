import { runTool } from '../compose/run-tool.js';
import { OfflineError } from '../errors.js';
import {
  parseJsonLines,
  parseServiceSpecs,
  SERVICE_FIELDS,
  type ServiceRow,
  type ServiceSpec,
  TASK_FIELDS,
  type TaskRow,
} from './swarm-rows.js';

/** What waiting for a stack reads from a Swarm manager; tests pass a fake. */
export interface SwarmReader {
  services(stack: string): Promise<ServiceRow[]>;
  /** The tasks of the given services (IDs), each slot's newest first. */
  tasks(serviceIds: readonly string[]): Promise<TaskRow[]>;
  specs(serviceIds: readonly string[]): Promise<ServiceSpec[]>;
}

/**
 * Through the docker CLI, on the engine DOCKER_HOST names, as docker stack deploy itself. `{{json .}}` rather
 * than `--format json`, which CLIs before 23.0 do not know.
 */
export const cliSwarmReader: SwarmReader = {
  async services(stack) {
    const what = `docker stack services ${stack}`;
    const out = await docker(['stack', 'services', stack, '--format', '{{json .}}'], what);
    return parseJsonLines<ServiceRow>(out, SERVICE_FIELDS, what);
  },
  async tasks(serviceIds) {
    const out = await docker(
      ['service', 'ps', '--no-trunc', '--format', '{{json .}}', ...serviceIds],
      'docker service ps',
    );
    return parseJsonLines<TaskRow>(out, TASK_FIELDS, 'docker service ps');
  },
  async specs(serviceIds) {
    return parseServiceSpecs(await docker(['service', 'inspect', ...serviceIds], 'docker service inspect'));
  },
};

async function docker(args: string[], what: string): Promise<string> {
  const run = await runTool('docker', args);
  if (run.code !== 0) {
    const reason = run.stderr.trim().split('\n').at(-1) || `exit ${run.code}`;
    throw new OfflineError('EDOCKER', `${what}: ${reason}`);
  }
  return run.stdout;
}
