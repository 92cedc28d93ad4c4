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

/**
 * Runs the CLI as a user would (a child process): from source through tsx, or with `bin` a single-file build
 * run by node (what the `offline` bin is).
 */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; bin?: string } = {},
): Promise<CliResult> {
  const [command, ...entryArgs] = options.bin ? [process.execPath, options.bin] : [tsx, entry];
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, [...entryArgs, ...args], {
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
