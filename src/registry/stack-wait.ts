import { SETTLE_MS } from '../compose/settle.js';
import { OfflineError } from '../errors.js';
import {
  countedOutcome,
  describeTask,
  describeTasks,
  type FailedOutcome,
  type ServiceOutcome,
  serviceOutcome,
} from './service-outcome.js';
import { cliSwarmReader, type SwarmReader } from './swarm-reader.js';
import { restartPolicyOf, type ServiceRow, type TaskRow, tasksOf } from './swarm-rows.js';

export interface StackService {
  name: string;
  /** From `docker stack services`: running/wanted tasks (`1/1`), for a job also `(1/1 completed)`. */
  replicas: string;
  /** running: every wanted task runs; completed: a job done, or tasks that exited 0 and are not restarted. */
  state: 'running' | 'completed';
}

export interface WaitOptions {
  reader?: SwarmReader;
  /** Between two polls; 1 s unless a test says otherwise. */
  intervalMs?: number;
  /** How long a service must keep all its replicas running to count as running; SETTLE_MS unless a test says. */
  stableMs?: number;
}

interface Polled {
  row: ServiceRow;
  tasks: TaskRow[];
  outcome: ServiceOutcome;
}

type Failed = Polled & { outcome: FailedOutcome };

/** What a poll read for a service, and since when the polls have read it (ms since the epoch). */
interface Seen {
  verdict: string;
  since: number;
}

/**
 * Waits until every service of the stack has run all its replicas for SETTLE_MS (across polls) or has completed
 * (a job, or a service whose tasks exited 0 and are not restarted). Fails at once with ESTART when a service's
 * task failed and its restart policy starts no other, else at the deadline with ETIMEOUT naming each pending
 * service's last task error.
 */
export async function waitForStack(
  name: string,
  timeoutSeconds: number,
  options: WaitOptions = {},
): Promise<StackService[]> {
  const reader = options.reader ?? cliSwarmReader;
  const stableMs = options.stableMs ?? SETTLE_MS;
  const deadline = Date.now() + timeoutSeconds * 1000;
  let previous = new Map<string, Seen>();
  for (;;) {
    const polled = await poll(reader, name);
    const settled = confirm(polled, previous, Date.now(), stableMs);
    previous = settled.seen;
    const failed = settled.polled.filter((p): p is Failed => p.outcome.kind === 'failed');
    if (failed.length > 0) throw stoppedForGood(name, failed);
    const pending = settled.polled.filter((p) => p.outcome.kind === 'pending');
    if (polled.length > 0 && pending.length === 0) {
      return settled.polled.map(({ row, outcome }) => ({
        name: row.Name,
        replicas: row.Replicas,
        state: outcome.kind === 'completed' ? 'completed' : 'running',
      }));
    }
    if (Date.now() > deadline) {
      throw new OfflineError(
        'ETIMEOUT',
        `stack ${name}: not all services running after ${timeoutSeconds} s: ${pending
          .map((p) => describePending(p, stableMs))
          .join(', ')}`,
        { hint: `docker service ps --no-trunc ${pending[0]?.row.Name ?? name} shows every task` },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
  }
}

/** One look at the stack: every service's row, and for those not done by their counts, tasks and restart policy. */
async function poll(reader: SwarmReader, stack: string): Promise<Polled[]> {
  const rows = await reader.services(stack);
  const open = rows.filter((row) => !countedOutcome(row)).map((row) => row.ID);
  const [tasks, specs] =
    open.length > 0 ? await Promise.all([reader.tasks(open), reader.specs(open)]) : [[], []];
  return rows.map((row) => {
    const own = tasksOf(row.Name, tasks);
    return { row, tasks: own, outcome: serviceOutcome(row, own, restartPolicyOf(row.Name, specs)) };
  });
}

/**
 * Takes a verdict only once the polls have kept reading it: all replicas running for stableMs (a task that
 * exits soon after it started shows n/n for a moment), and one read from tasks (completed or failed) on two
 * polls in a row, since Swarm may start a job's next task, or a restart, a moment after the last task ended.
 */
function confirm(
  polled: Polled[],
  previous: Map<string, Seen>,
  now: number,
  stableMs: number,
): { polled: Polled[]; seen: Map<string, Seen> } {
  const seen = new Map<string, Seen>();
  const checked = polled.map((p): Polled => {
    const verdict = verdictOf(p);
    if (verdict === undefined) return p;
    const before = previous.get(p.row.ID);
    const again = before !== undefined && before.verdict === verdict;
    const since = again ? before.since : now;
    seen.set(p.row.ID, { verdict, since });
    const taken = p.outcome.kind === 'running' ? now - since >= stableMs : again;
    return taken ? p : { ...p, outcome: { kind: 'pending' } };
  });
  return { polled: checked, seen };
}

/** What must stay the same across polls for a verdict to be taken; none for a job its counts prove completed. */
function verdictOf({ row, outcome }: Polled): string | undefined {
  if (outcome.kind === 'running') return `running ${outcome.evidence ?? row.Replicas}`;
  if (outcome.kind === 'pending' || outcome.evidence === undefined) return undefined;
  return `${outcome.kind} ${outcome.evidence}`;
}

/** A pending service for ETIMEOUT: `web 0/1 (Starting 8 seconds ago)`, or one running but not yet for long. */
function describePending({ row, tasks }: Polled, stableMs: number): string {
  if (tasks.length > 0) return `${row.Name} ${row.Replicas} (${describeTasks(tasks)})`;
  if (countedOutcome(row)?.kind === 'running') {
    return `${row.Name} ${row.Replicas} (running for less than ${stableMs / 1000} s)`;
  }
  return `${row.Name} ${row.Replicas}`;
}

/** ESTART naming each service that stopped for good, with its failed task's state and error. */
function stoppedForGood(stack: string, failed: Failed[]): OfflineError {
  const problems = failed.map(
    ({ row, tasks, outcome: { task, policy } }) =>
      new OfflineError(
        'ESTART',
        `stack ${stack}: ${row.Name} stopped for good: its ${policy} starts no other task`,
        {
          file: row.Name,
          expected: 'a running or completed task',
          found: describeTask(task, tasks),
          hint: `docker service ps --no-trunc ${row.Name} shows every task, docker service logs ${row.Name} their output`,
        },
      ),
  );
  if (problems.length === 1 && problems[0]) return problems[0];
  return new OfflineError(
    'ESTART',
    `stack ${stack}: ${failed.length} services stopped for good: ${failed.map((p) => p.row.Name).join(', ')}`,
    { problems },
  );
}
