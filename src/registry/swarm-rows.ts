import { OfflineError } from '../errors.js';

/** A line of `docker stack services --format '{{json .}}'` (the columns of docker service ls). */
export interface ServiceRow {
  ID: string;
  Name: string;
  /** replicated, global, replicated job, global job. */
  Mode: string;
  /** `1/1`, `1/2 (max 1 per node)`, or for jobs `0/1 (1/1 completed)`. */
  Replicas: string;
}

/** A line of `docker service ps --no-trunc --format '{{json .}}'`. */
export interface TaskRow {
  ID: string;
  /** `<service>.<slot>`, or `<service>.<node ID>` for global services and some job tasks. */
  Name: string;
  /** The state and its age, e.g. `Failed 2 seconds ago`. */
  CurrentState: string;
  /** Running, Ready (a restart waiting out its delay), Complete (jobs), Shutdown, Remove. */
  DesiredState: string;
  /** Quoted by the docker CLI, e.g. `"task: non-zero exit (1)"`; empty when none. */
  Error: string;
}

export interface RestartPolicy {
  /** none, on-failure or any (Swarm's default). */
  Condition?: string;
  /** 0: no limit. */
  MaxAttempts?: number;
}

/** The part of a `docker service inspect` entry read here. */
export interface ServiceSpec {
  ID: string;
  Spec: { Name: string; TaskTemplate?: { RestartPolicy?: RestartPolicy } };
}

/** Parses JSON lines that the docker CLI printed, each an object with the given string fields. */
export function parseJsonLines<T>(text: string, fields: readonly (keyof T & string)[], what: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const row = parseJson(line, what) as Record<string, unknown> | null;
      const missing = fields.find((f) => typeof row?.[f] !== 'string');
      if (missing !== undefined) {
        throw new OfflineError('EDOCKER', `${what}: a line without ${missing}`, {
          expected: `a JSON object with ${fields.join(', ')}`,
          found: line.slice(0, 200),
        });
      }
      return row as T;
    });
}

/** Parses `docker service inspect` output: a JSON array of services. */
export function parseServiceSpecs(text: string): ServiceSpec[] {
  const specs = parseJson(text, 'docker service inspect');
  if (!Array.isArray(specs) || specs.some((s) => typeof s?.ID !== 'string' || typeof s?.Spec !== 'object')) {
    throw new OfflineError('EDOCKER', 'docker service inspect: not a list of services', {
      expected: 'a JSON array of services',
      found: text.slice(0, 200),
    });
  }
  return specs as ServiceSpec[];
}

export const SERVICE_FIELDS = ['ID', 'Name', 'Mode', 'Replicas'] as const;
export const TASK_FIELDS = ['ID', 'Name', 'CurrentState', 'DesiredState', 'Error'] as const;

/** The tasks of one service among those of several: a task's name is the service's, a dot, and a slot or node. */
export function tasksOf(service: string, tasks: readonly TaskRow[]): TaskRow[] {
  return tasks.filter(
    (t) => t.Name.startsWith(`${service}.`) && !t.Name.slice(service.length + 1).includes('.'),
  );
}

/**
 * A service's restart policy among inspected services, found by name: docker service ls prints short IDs, and
 * inspect full ones.
 */
export function restartPolicyOf(service: string, specs: readonly ServiceSpec[]): RestartPolicy | undefined {
  return specs.find((s) => s.Spec.Name === service)?.Spec.TaskTemplate?.RestartPolicy;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new OfflineError('EDOCKER', `${what}: output that is not JSON`, {
      expected: 'JSON',
      found: text.slice(0, 200),
      cause,
    });
  }
}
