import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { gatherOutput } from '../../test/support/child-output.js';

export interface Measured {
  seconds: number;
  /** Peak resident set size of the command, in MiB (from GNU time). */
  peakRssMiB: number;
  /** CPU time of the command and its children (user + system), in seconds (from GNU time). */
  cpuSeconds: number;
  /**
   * CPU time the whole machine spent while the command ran, in seconds (/proc/stat): the command's, and that
   * of the processes it asked for work, such as the Docker engine and the helpers it starts, which GNU time
   * does not count. NaN where /proc/stat is missing.
   */
  machineBusySeconds: number;
  /** The CPU time there was: wall seconds times the cores. */
  machineSeconds: number;
  stdout: string;
}

/** The machine's CPU time so far, in clock ticks: busy (user, nice, system, irq, softirq, steal) and idle. */
function machineTicks(): { busy: number; idle: number } {
  try {
    const fields = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '')
      .split(/\s+/)
      .map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
  } catch {
    return { busy: Number.NaN, idle: Number.NaN };
  }
}

/**
 * Runs a command under GNU /usr/bin/time and returns its wall time, peak RSS and CPU time. Fails loudly if the
 * command fails: a benchmark of a failed run is no figure.
 */
export function measure(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const ticks = machineTicks();
    const child = spawn('/usr/bin/time', ['-f', '__MAXRSS_KB=%M __CPU_S=%U+%S', command, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = gatherOutput(child);
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const after = machineTicks();
      const busy = after.busy - ticks.busy;
      // The busy share of the ticks that passed, times the CPU time there was (no need for the tick's length):
      // every CPU /proc/stat counts, whichever this process may use.
      const machineSeconds = seconds * cpus().length;
      const machineBusySeconds = (busy / (busy + after.idle - ticks.idle)) * machineSeconds;
      const kb = Number(/__MAXRSS_KB=(\d+)/.exec(output.stderr)?.[1] ?? 'NaN');
      const cpu = /__CPU_S=([\d.]+)\+([\d.]+)/.exec(output.stderr);
      const cpuSeconds = cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN;
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${output.stderr.slice(-2000)}`));
        return;
      }
      resolve({
        seconds,
        peakRssMiB: kb / 1024,
        cpuSeconds,
        machineBusySeconds,
        machineSeconds,
        stdout: output.stdout,
      });
    });
  });
}

/** The middle value (the upper one of an even count). */
export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted[sorted.length >> 1];
  if (middle === undefined) throw new Error('median of no values');
  return middle;
}

/** The run with the median wall time (the upper one of an even count). */
export function median(runs: Measured[]): Measured {
  const seconds = medianOf(runs.map((r) => r.seconds));
  return runs.find((r) => r.seconds === seconds) as Measured;
}

/** One way of doing a job in a comparison: `prepare` (not timed) sets the start state, `run` is measured. */
export interface Way {
  prepare?: (round: number) => Promise<void>;
  run: (round: number) => Promise<Measured>;
}

/**
 * Runs each way `rounds` times, alternating, each after its `prepare` and a `sync` (neither timed, so one way's
 * disk writes are not flushed during the next), and prints every run's wall time on stderr. On a small shared
 * VM a single run of either way varies by seconds; compare the medians.
 */
export async function alternate<K extends string>(
  ways: Record<K, Way>,
  rounds = 3,
): Promise<Record<K, Measured[]>> {
  const entries = Object.entries(ways) as [K, Way][];
  const runs = Object.fromEntries(entries.map(([name]) => [name, [] as Measured[]])) as Record<K, Measured[]>;
  for (let round = 0; round < rounds; round++) {
    for (const [name, way] of entries) {
      await way.prepare?.(round);
      await measureShell('sync');
      runs[name].push(await way.run(round));
    }
  }
  const line = entries.map(([name]) => `${name} ${runs[name].map((r) => r.seconds.toFixed(2)).join(' ')} s`);
  process.stderr.write(`runs: ${line.join('; ')}\n`);
  return runs;
}

/** Runs a shell pipeline (the "plain coreutils way") under GNU time. */
export function measureShell(
  script: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Measured> {
  return measure('bash', ['-o', 'pipefail', '-c', script], options);
}

/** Prints one benchmark line in a fixed shape so runs can be compared: name, figures, ratio against target. */
export function report(
  name: string,
  figures: Record<string, string | number>,
  verdict?: { ratio: number; target: string; pass: boolean },
): void {
  const parts = Object.entries(figures).map(
    ([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toFixed(3)) : v}`,
  );
  const tail = verdict
    ? ` ratio=${verdict.ratio.toFixed(3)} target${verdict.target} ${verdict.pass ? 'PASS' : 'MISS'}`
    : '';
  process.stdout.write(`[bench] ${name}: ${parts.join(' ')}${tail}\n`);
}
