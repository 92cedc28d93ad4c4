import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatherOutput } from './child-output.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const entry = path.join(root, 'src/cli/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when the command ran with --json. */
  json: Record<string, unknown> | undefined;
}

/** sh: bind-mounts $1 read-only at $2, then runs the rest (inside `unshare -m`, root). */
const READ_ONLY_MOUNT = 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && shift 2 && exec "$@"';

/**
 * Runs the CLI as a user would (a child process): from source through tsx, or with `bin` a single-file build
 * run by node (`node offline.mjs`, as a bundle's README.txt says; run as a program, the file starts through
 * its launcher: test/selfcontained/launcher.test.ts). With `readOnly`, `source` is seen read-only at `at` (read-only
 * media), in a private mount namespace that ends with the command (root and unshare needed; without them the
 * command does not run and stderr says why).
 */
export function runCli(
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    bin?: string;
    readOnly?: { source: string; at: string };
  } = {},
): Promise<CliResult> {
  const cli = options.bin ? [process.execPath, options.bin] : [tsx, entry];
  const { source, at } = options.readOnly ?? {};
  const [command, ...commandArgs] =
    source !== undefined && at !== undefined
      ? ['unshare', '-m', 'sh', '-c', READ_ONLY_MOUNT, 'sh', source, at, ...cli]
      : cli;
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, [...commandArgs, ...args], {
      cwd: options.cwd ?? root,
      env: { ...process.env, OFFLINE_SILENT: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = gatherOutput(child);
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      if (args.includes('--json')) {
        try {
          json = JSON.parse(output.stdout) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
      }
      resolve({ code: code ?? -1, ...output, json });
    });
  });
}
