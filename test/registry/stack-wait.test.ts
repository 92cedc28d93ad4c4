import { describe, expect, it } from 'vitest';
import { OfflineError } from '../../src/errors.js';
import { waitForStack } from '../../src/registry/stack-wait.js';
import { loadSnapshot, type Snapshot, snapshotReader } from './support/swarm-snapshots.js';

// The polling loop on snapshots captured from a real Swarm (fixtures/swarm), one snapshot per poll. Most tests
// take n/n running at once (stableMs 0); those on how long it must hold say so.
const fast = { intervalMs: 5, stableMs: 0 };
const inStack = (stack: string) => (service: string) => service.startsWith(`${stack}_`);

describe('waitForStack', () => {
  it('returns once every service runs or has completed, asking for tasks only of services not done by counts', async () => {
    const settled = loadSnapshot('settled');
    const done = new Set(['t_job', 't_gjob', 't_glob', 't_up', 't_once', 't_onfailok']);
    const reader = snapshotReader([settled], (s) => done.has(s));
    const services = await waitForStack('t', 60, { ...fast, reader });
    expect(services.map((s) => `${s.name} ${s.replicas} ${s.state}`)).toEqual([
      't_gjob 0/0 (1/1 completed) completed',
      't_glob 1/1 running',
      't_job 0/1 (1/1 completed) completed',
      't_once 0/1 completed',
      't_onfailok 0/1 completed',
      't_up 2/2 running',
    ]);
    // A verdict read from tasks is taken when a second poll agrees: two polls, three calls each at most.
    expect(reader.calls).toEqual([
      ['services'],
      ['tasks', 't_once', 't_onfailok'],
      ['specs', 't_once', 't_onfailok'],
      ['services'],
      ['tasks', 't_once', 't_onfailok'],
      ['specs', 't_once', 't_onfailok'],
    ]);
  });

  it('one call per poll when counts say everything runs', async () => {
    const reader = snapshotReader([loadSnapshot('settled')], (s) => s === 't_up' || s === 't_job');
    await waitForStack('t', 60, { ...fast, reader });
    expect(reader.calls).toEqual([['services']]);
  });

  it('fails with ESTART, without waiting for the deadline, once max_attempts are used up', async () => {
    const reader = snapshotReader(
      ['starting', 'running', 'restarting', 'gaveup'].map(loadSnapshot),
      inStack('v'),
    );
    const error = await waitForStack('v', 600, { ...fast, reader }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OfflineError);
    expect(error).toMatchObject({
      code: 'ESTART',
      file: 'v_retrying',
      message:
        'stack v: v_retrying stopped for good: its restart_policy condition on-failure, max_attempts 5 starts no other task',
      expected: 'a running or completed task',
      found: 'Failed 13 seconds ago: task: non-zero exit (4)',
      hint: expect.stringContaining('docker service ps --no-trunc v_retrying'),
    });
    // starting, running, restarting, then gaveup twice: the failure is taken when two polls agree.
    expect(reader.calls.filter(([call]) => call === 'services')).toHaveLength(5);
  });

  it('names every service that stopped for good, each with its own error', async () => {
    const reader = snapshotReader([loadSnapshot('settled')], inStack('u'));
    const error = (await waitForStack('u', 600, { ...fast, reader }).catch(
      (e: unknown) => e,
    )) as OfflineError;
    expect(error).toMatchObject({
      code: 'ESTART',
      message: expect.stringMatching(/3 services stopped for good/),
    });
    expect(error.problems.map((p) => [p.file, p.code, p.found])).toEqual([
      ['u_jobnone', 'ESTART', 'Failed about a minute ago: task: non-zero exit (1)'],
      ['u_jobonfail', 'ESTART', 'Failed about a minute ago: task: non-zero exit (2)'],
      ['u_mixed', 'ESTART', 'Failed about a minute ago: task: non-zero exit (1)'],
    ]);
  });

  it('takes no failure that the next poll contradicts (Swarm started another task)', async () => {
    // gaveup's final-looking failure, then a restart: the failure was never confirmed, so the deadline ends it.
    const reader = snapshotReader(['gaveup', 'restarting'].map(loadSnapshot), (s) => s === 'v_retrying');
    const error = await waitForStack('v', 0.05, { ...fast, reader }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ETIMEOUT' });
  });

  it('at the deadline, ETIMEOUT names each pending service with its task state and last error', async () => {
    const reader = snapshotReader([loadSnapshot('running')], inStack('v'));
    const error = await waitForStack('v', 0.05, { ...fast, reader }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ETIMEOUT',
      message:
        'stack v: not all services running after 0.05 s: ' +
        'v_retrying 0/1 (Starting 1 second ago, last error: task: non-zero exit (4)), ' +
        'v_slowjob 1/1 (0/1 completed) (Running 6 seconds ago), ' +
        'v_unhealthy 0/1 (Starting 8 seconds ago)',
      hint: 'docker service ps --no-trunc v_retrying shows every task',
    });
  });

  describe('n/n running is taken once the polls have read it for stableMs', () => {
    const slowonce = (s: string) => s === 'v_slowonce';
    // v_slowonce (restart none) runs 1/1 in `running`, then its task has exited 0 in `restarting` and `gaveup`.
    const ranThenExited = () => ['starting', 'running', 'restarting', 'gaveup'].map(loadSnapshot);
    // The same, had its task exited 1: what a service that fails a moment after it started shows.
    const ranThenFailed = () => [loadSnapshot('running'), failedSlowonce(loadSnapshot('restarting'))];

    it('a service that ran 1/1 for a moment, then exited 0, is completed, not running', async () => {
      const services = await waitForStack('v', 60, {
        ...fast,
        stableMs: 60_000,
        reader: snapshotReader(ranThenExited(), slowonce),
      });
      expect(services.map((s) => `${s.name} ${s.replicas} ${s.state}`)).toEqual(['v_slowonce 0/1 completed']);
      // The control: taking 1/1 at once returns while the task still runs.
      const atOnce = await waitForStack('v', 60, {
        ...fast,
        reader: snapshotReader(ranThenExited(), slowonce),
      });
      expect(atOnce.map((s) => `${s.name} ${s.replicas} ${s.state}`)).toEqual(['v_slowonce 1/1 running']);
    });

    it('a service that ran 1/1 for a moment, then failed with restart none, fails the wait with ESTART', async () => {
      const error = await waitForStack('v', 60, {
        ...fast,
        stableMs: 60_000,
        reader: snapshotReader(ranThenFailed(), slowonce),
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'ESTART',
        file: 'v_slowonce',
        message:
          'stack v: v_slowonce stopped for good: its restart_policy condition none starts no other task',
        found: 'Failed 2 seconds ago: task: non-zero exit (1)',
      });
      const atOnce = await waitForStack('v', 60, {
        ...fast,
        reader: snapshotReader(ranThenFailed(), slowonce),
      });
      expect(atOnce.map((s) => s.state)).toEqual(['running']);
    });

    it('returns once 1/1 has held for stableMs, polling until then', async () => {
      const reader = snapshotReader([loadSnapshot('running')], slowonce);
      const started = Date.now();
      const services = await waitForStack('v', 60, { ...fast, stableMs: 50, reader });
      expect(Date.now() - started).toBeGreaterThanOrEqual(50);
      expect(services.map((s) => `${s.name} ${s.replicas} ${s.state}`)).toEqual(['v_slowonce 1/1 running']);
      // The first poll to read 1/1 starts the 50 ms; a later one takes it (however late the timers run).
      expect(reader.calls.filter(([call]) => call === 'services').length).toBeGreaterThanOrEqual(2);
      // Counts alone prove 1/1: no service's tasks are read.
      expect(reader.calls.every(([call]) => call === 'services')).toBe(true);
    });

    it('at the deadline, ETIMEOUT says a service runs 1/1 but not yet for stableMs', async () => {
      const reader = snapshotReader([loadSnapshot('running')], slowonce);
      const error = await waitForStack('v', 0.05, { ...fast, stableMs: 60_000, reader }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'ETIMEOUT',
        message:
          'stack v: not all services running after 0.05 s: v_slowonce 1/1 (running for less than 60 s)',
      });
    });
  });
});

/** `restarting` with v_slowonce's task failed (exit 1) where it had completed. */
function failedSlowonce(snapshot: Snapshot): Snapshot {
  return {
    ...snapshot,
    tasks: snapshot.tasks.map((t) =>
      t.Name === 'v_slowonce.1'
        ? { ...t, CurrentState: 'Failed 2 seconds ago', Error: '"task: non-zero exit (1)"' }
        : t,
    ),
  };
}
