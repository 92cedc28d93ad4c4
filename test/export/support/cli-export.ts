import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const exec = promisify(execFile);

/** Runs a shell command in `cwd` and returns its stdout; rejects with its stderr on failure. */
export async function sh(cwd: string, script: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await exec('bash', ['-o', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}
