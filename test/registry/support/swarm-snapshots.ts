import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SwarmReader } from '../../../src/registry/swarm-reader.js';
import {
  parseJsonLines,
  parseServiceSpecs,
  SERVICE_FIELDS,
  type ServiceRow,
  type ServiceSpec,
  TASK_FIELDS,
  type TaskRow,
  tasksOf,
} from '../../../src/registry/swarm-rows.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/swarm');

export interface Snapshot {
  services: ServiceRow[];
  tasks: TaskRow[];
  specs: ServiceSpec[];
}

/** A snapshot captured from the private Swarm (see fixtures/swarm/README.md), parsed as the CLI reader does. */
export function loadSnapshot(name: string): Snapshot {
  const read = (suffix: string) => readFileSync(path.join(dir, `${name}.${suffix}`), 'utf8');
  return {
    services: parseJsonLines<ServiceRow>(read('services.jsonl'), SERVICE_FIELDS, name),
    tasks: parseJsonLines<TaskRow>(read('tasks.jsonl'), TASK_FIELDS, name),
    specs: parseServiceSpecs(read('inspect.json')),
  };
}

/**
 * A SwarmReader that answers each poll from the next snapshot (the last one once they run out), keeping the
 * services whose names `keep` accepts, and records what each poll asked for.
 */
export function snapshotReader(
  snapshots: Snapshot[],
  keep: (service: string) => boolean,
): SwarmReader & { calls: string[][] } {
  let poll = -1;
  const calls: string[][] = [];
  const current = () => snapshots[Math.min(poll, snapshots.length - 1)] as Snapshot;
  const names = (ids: readonly string[]) =>
    current()
      .services.filter((s) => ids.includes(s.ID))
      .map((s) => s.Name);
  return {
    calls,
    async services() {
      poll += 1;
      calls.push(['services']);
      return current().services.filter((s) => keep(s.Name));
    },
    async tasks(ids) {
      calls.push(['tasks', ...names(ids)]);
      return names(ids).flatMap((name) => tasksOf(name, current().tasks));
    },
    async specs(ids) {
      calls.push(['specs', ...names(ids)]);
      return current().specs.filter((s) => names(ids).includes(s.Spec.Name));
    },
  };
}
