import { describe, expect, it } from 'vitest';
import {
  describeTasks,
  parseReplicas,
  type ServiceOutcome,
  serviceOutcome,
} from '../../src/registry/service-outcome.js';
import {
  parseJsonLines,
  restartPolicyOf,
  TASK_FIELDS,
  type TaskRow,
  tasksOf,
} from '../../src/registry/swarm-rows.js';
import { loadSnapshot, type Snapshot } from './support/swarm-snapshots.js';

/** Every service of a snapshot with the outcome read from its row, tasks and restart policy. */
function outcomes(snapshot: Snapshot): Record<string, ServiceOutcome['kind']> {
  return Object.fromEntries(
    snapshot.services.map((row) => {
      const policy = restartPolicyOf(row.Name, snapshot.specs);
      return [row.Name, serviceOutcome(row, tasksOf(row.Name, snapshot.tasks), policy).kind];
    }),
  );
}

describe('parseReplicas', () => {
  it('reads the forms of docker service ls: n/n, with a per-node limit, and a job’s completions', () => {
    expect(parseReplicas('2/2')).toEqual({ running: 2, wanted: 2 });
    expect(parseReplicas('1/2 (max 1 per node)')).toEqual({ running: 1, wanted: 2 });
    expect(parseReplicas('0/1 (1/1 completed)')).toEqual({
      running: 0,
      wanted: 1,
      completed: 1,
      toComplete: 1,
    });
    expect(parseReplicas('0/0 (1/1 completed)')).toEqual({
      running: 0,
      wanted: 0,
      completed: 1,
      toComplete: 1,
    });
    expect(parseReplicas('')).toBeUndefined();
  });
});

describe('serviceOutcome, on services captured from a real Swarm', () => {
  it('settled: jobs completed by their counts, tasks that exited 0 and are not restarted, and final failures', () => {
    expect(outcomes(loadSnapshot('settled'))).toEqual({
      // Jobs: done when their completions are; failed when restart none/max_attempts leaves a failed task.
      t_job: 'completed', // replicated-job, 0/1 (1/1 completed)
      t_gjob: 'completed', // global-job, 0/0 (1/1 completed)
      u_job3: 'completed', // 0/3 (3/3 completed)
      seqok: 'completed',
      t_failjob: 'pending', // exits 1 with the default restart policy (any): Swarm keeps trying
      u_jobnone: 'failed', // restart none
      u_jobonfail: 'failed', // on-failure, max_attempts 1, both attempts failed
      seqfail: 'failed', // 0/3 completed: the first task failed and restart none starts no other
      jobmixed: 'failed', // 1/2 completed, the other slot failed (twice) with restart none
      // Services: n/n running, or ended for good.
      t_up: 'running',
      t_glob: 'running',
      t_once: 'completed', // restart none, exited 0: 0/1 for ever
      t_onfailok: 'completed', // on-failure, exited 0
      u_both: 'completed', // 2 replicas, restart none, both exited 0
      u_anymax: 'completed', // restart any with max_attempts 1: exited 0 twice, then no more
      t_broken: 'failed', // restart none, exit 1
      t_noimage: 'failed', // restart none, rejected: no such image
      t_onfail: 'failed', // on-failure, max_attempts 2 used up
      u_mixed: 'failed', // restart none, slot 1 exited 0 and slot 2 exited 1
      t_crashloop: 'pending', // restart any: the next attempt waits out its delay
    });
  });

  it('while starting, running and restarting, only counts decide; after max_attempts the failure is final', () => {
    expect(outcomes(loadSnapshot('starting'))).toEqual({
      v_retrying: 'pending',
      v_slowjob: 'pending',
      v_slowonce: 'pending',
      v_unhealthy: 'pending',
    });
    expect(outcomes(loadSnapshot('running'))).toEqual({
      v_retrying: 'pending', // on-failure, second attempt starting
      v_slowjob: 'pending', // 1/1 (0/1 completed): running is not done for a job
      v_slowonce: 'running', // 1/1
      v_unhealthy: 'pending',
    });
    expect(outcomes(loadSnapshot('restarting'))).toEqual({
      v_retrying: 'pending', // the newest task waits out the restart delay (desired state Ready)
      v_slowjob: 'completed',
      v_slowonce: 'completed',
      v_unhealthy: 'pending',
    });
    expect(outcomes(loadSnapshot('gaveup'))).toEqual({
      v_retrying: 'failed', // on-failure, max_attempts 5: 6 tasks failed
      v_slowjob: 'completed',
      v_slowonce: 'completed',
      v_unhealthy: 'pending', // restart any
    });
  });

  it('names the failed task, the restart policy that starts no other, and the newest tasks as evidence', () => {
    const snapshot = loadSnapshot('settled');
    const verdict = (name: string) => {
      const row = snapshot.services.find((s) => s.Name === name);
      if (!row) throw new Error(name);
      return serviceOutcome(row, tasksOf(name, snapshot.tasks), restartPolicyOf(name, snapshot.specs));
    };
    expect(verdict('t_onfail')).toMatchObject({
      kind: 'failed',
      policy: 'restart_policy condition on-failure, max_attempts 2',
      task: { ID: 'ubzzttjdk6bpxa5lrstle7wu1', Error: '"task: non-zero exit (3)"' },
      evidence: 'ubzzttjdk6bpxa5lrstle7wu1',
    });
    // The failed slot, not the one that exited 0.
    expect(verdict('u_mixed')).toMatchObject({
      kind: 'failed',
      policy: 'restart_policy condition none',
      task: { Name: 'u_mixed.2', Error: '"task: non-zero exit (1)"' },
    });
    expect(verdict('t_noimage')).toMatchObject({ task: { Error: '"No such image: nosuch/image:1"' } });
    // Counts alone decide these: no tasks needed, no evidence to confirm.
    expect(verdict('t_up')).toEqual({ kind: 'running' });
    expect(verdict('t_job')).toEqual({ kind: 'completed' });
  });

  it('waits on a failed task Swarm has not yet taken note of (desired state still Running)', () => {
    // Edited from t_broken's captured task: the moment between the task failing and Swarm marking it Shutdown,
    // when a restart policy other than none would create the next task.
    const row = { ID: 'x', Name: 't_broken', Mode: 'replicated', Replicas: '0/1' };
    const [task] = tasks(
      '{"CurrentState":"Failed 1 second ago","DesiredState":"Running","Error":"\\"task: non-zero exit (1)\\"","ID":"6wbmcu29fywf3fthmy8mhv5e0","Image":"offline-base/busybox:latest","Name":"t_broken.1","Node":"vm","Ports":""}',
    );
    expect(serviceOutcome(row, [task as TaskRow], { Condition: 'none' })).toEqual({ kind: 'pending' });
    expect(
      serviceOutcome(row, [{ ...(task as TaskRow), DesiredState: 'Shutdown' }], { Condition: 'none' }),
    ).toMatchObject({
      kind: 'failed',
    });
    // No tasks yet, and no policy read (Swarm's default is any): pending.
    expect(serviceOutcome(row, [], { Condition: 'none' })).toEqual({ kind: 'pending' });
    expect(serviceOutcome(row, [{ ...(task as TaskRow), DesiredState: 'Shutdown' }])).toEqual({
      kind: 'pending',
    });
  });
});

describe('describeTasks', () => {
  it('gives the newest task that does not run with its error, or its slot’s last error', () => {
    const settled = loadSnapshot('settled');
    expect(describeTasks(tasksOf('t_noimage', settled.tasks))).toMatch(
      /^Rejected .* ago: No such image: nosuch\/image:1$/,
    );
    expect(describeTasks(tasksOf('t_crashloop', settled.tasks))).toBe(
      'Ready less than a second ago, last error: task: non-zero exit (1)',
    );
    expect(describeTasks(tasksOf('t_up', settled.tasks))).toMatch(/^Running /);
  });
});

function tasks(...lines: string[]): TaskRow[] {
  return parseJsonLines<TaskRow>(lines.join('\n'), TASK_FIELDS, 'test');
}
