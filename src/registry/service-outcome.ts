import type { RestartPolicy, ServiceRow, TaskRow } from './swarm-rows.js';

/**
 * Where a Swarm service stands:
 * - running: every wanted task runs (n/n);
 * - completed: a job completed all its tasks, or the service's tasks exited 0 and its restart policy starts
 *   no other;
 * - failed: a task failed (or was rejected) and the restart policy starts no other, so it never will run;
 * - pending: anything else (starting, restarting, or a job still working): only the deadline ends the wait.
 *
 * A verdict read from tasks carries `evidence` (the newest tasks' IDs): the caller takes it only once two polls
 * agree, since Swarm may start a job's next task a moment after the last one ended.
 */
export type ServiceOutcome =
  | { kind: 'running' | 'completed'; evidence?: string }
  | FailedOutcome
  | { kind: 'pending' };

/** The failed task, and the restart policy that starts no other (`restart_policy condition none`). */
export interface FailedOutcome {
  kind: 'failed';
  evidence: string;
  task: TaskRow;
  policy: string;
}

export interface ReplicaCounts {
  running: number;
  wanted: number;
  /** Jobs only: tasks completed, and how many must complete. */
  completed?: number;
  toComplete?: number;
}

/** Reads the Replicas column: `1/2`, `1/2 (max 1 per node)`, `0/1 (1/1 completed)`. */
export function parseReplicas(replicas: string): ReplicaCounts | undefined {
  const match = /^(\d+)\/(\d+)(?: \((\d+)\/(\d+) completed\))?/.exec(replicas.trim());
  if (!match) return undefined;
  const n = (i: number) => Number(match[i]);
  return match[3] === undefined
    ? { running: n(1), wanted: n(2) }
    : { running: n(1), wanted: n(2), completed: n(3), toComplete: n(4) };
}

/** The outcome the Replicas column alone proves (n/n running, or a job's tasks all completed), if any. */
export function countedOutcome(row: ServiceRow): ServiceOutcome | undefined {
  const counts = parseReplicas(row.Replicas);
  if (!counts) return undefined;
  if (counts.toComplete !== undefined) {
    return (counts.completed ?? 0) >= counts.toComplete ? { kind: 'completed' } : undefined;
  }
  return counts.running >= counts.wanted ? { kind: 'running' } : undefined;
}

/**
 * Classifies a service from its Replicas column, its tasks (`docker service ps`, newest first within a slot)
 * and its restart policy (`docker service inspect`).
 */
export function serviceOutcome(
  row: ServiceRow,
  tasks: readonly TaskRow[],
  policy?: RestartPolicy,
): ServiceOutcome {
  const counted = countedOutcome(row);
  if (counted) return counted;
  // Until every task has ended and Swarm has marked it so (its desired state no longer Running or Ready, which
  // is when it would have created the next one), the service can still go either way.
  if (tasks.length === 0 || !tasks.every(hasSettled)) return { kind: 'pending' };
  const newest = newestPerSlot(tasks);
  const evidence = newest.map((t) => t.ID).join(',');
  const condition = policy?.Condition ?? 'any';
  const attempts = policy?.MaxAttempts ?? 0;
  const failed = newest.find((t) => FAILED.has(stateOf(t)));
  if (failed) {
    // Restart any or on-failure without a limit would start another task: a failure there is not final.
    if (condition !== 'none' && attempts === 0) return { kind: 'pending' };
    return { kind: 'failed', evidence, task: failed, policy: describePolicy(condition, attempts) };
  }
  // A job is done only when its count of completed tasks says so.
  const isJob = parseReplicas(row.Replicas)?.toComplete !== undefined;
  const stopsAfterSuccess = condition === 'none' || condition === 'on-failure' || attempts > 0;
  if (!isJob && stopsAfterSuccess && newest.every((t) => stateOf(t) === 'Complete')) {
    return { kind: 'completed', evidence };
  }
  return { kind: 'pending' };
}

/** What to tell a user about a service's tasks: the newest that does not run, with its slot's newest error. */
export function describeTasks(tasks: readonly TaskRow[]): string {
  const newest = newestPerSlot(tasks);
  const task = newest.find((t) => stateOf(t) !== 'Running') ?? newest[0];
  return task ? describeTask(task, tasks) : '';
}

/** A task's state and error (`Failed 2 seconds ago: task: non-zero exit (1)`), or its slot's newest error. */
export function describeTask(task: TaskRow, tasks: readonly TaskRow[]): string {
  if (task.Error) return `${task.CurrentState}: ${taskError(task)}`;
  const earlier = tasks.find((t) => t.Name === task.Name && t.Error !== '');
  return earlier ? `${task.CurrentState}, last error: ${taskError(earlier)}` : task.CurrentState;
}

/** A task's state without its age: `Failed 2 seconds ago` -> `Failed`. */
export function stateOf(task: TaskRow): string {
  return task.CurrentState.split(' ')[0] ?? '';
}

const ENDED = new Set(['Complete', 'Failed', 'Rejected', 'Shutdown', 'Orphaned', 'Remove']);
const FAILED = new Set(['Failed', 'Rejected']);

/** The task ended, and Swarm has taken note (a completed job task keeps the desired state Complete). */
function hasSettled(task: TaskRow): boolean {
  const state = stateOf(task);
  if (!ENDED.has(state)) return false;
  return task.DesiredState === 'Shutdown' || task.DesiredState === 'Remove' || state === task.DesiredState;
}

/** The first task of each name: docker service ps lists a slot's tasks newest first. */
function newestPerSlot(tasks: readonly TaskRow[]): TaskRow[] {
  const seen = new Set<string>();
  return tasks.filter((t) => !seen.has(t.Name) && seen.add(t.Name));
}

function describePolicy(condition: string, attempts: number): string {
  return `restart_policy condition ${condition}${attempts > 0 ? `, max_attempts ${attempts}` : ''}`;
}

/** A task's error without the quotes the docker CLI puts around it: `"task: non-zero exit (1)"`. */
export function taskError(task: TaskRow): string {
  const error = task.Error;
  return error.length >= 2 && error.startsWith('"') && error.endsWith('"') ? error.slice(1, -1) : error;
}
