import { spawn } from 'node:child_process';

export interface Measured {
  seconds: number;
  /** Peak resident set size of the command, in MiB (from GNU time). */
  peakRssMiB: number;
  stdout: string;
}

/**
 * Runs a command under GNU /usr/bin/time and returns its wall time and peak RSS. Fails loudly if the command
 * fails: a benchmark of a failed run is no figure.
 */
export function measure(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '__MAXRSS_KB=%M', command, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const kb = Number(/__MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? 'NaN');
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
        return;
      }
      resolve({ seconds, peakRssMiB: kb / 1024, stdout });
    });
  });
}

/** The run with the median wall time (the upper one of an even count). */
export function median(runs: Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const middle = sorted[sorted.length >> 1];
  if (!middle) throw new Error('median of no runs');
  return middle;
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
