import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatherOutput } from './child-output.js';
import type { CliResult } from './cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Runs the CLI (from source, as runCli does) inside a new network namespace (`unshare -n`, root): no interface
 * but a loopback that is down, so any network connection fails; the engine's unix socket still answers.
 */
export function runCliWithoutNetwork(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'unshare',
      ['-n', path.join(root, 'node_modules/.bin/tsx'), path.join(root, 'src/cli/main.ts'), ...args],
      { cwd: root, env: { ...process.env, OFFLINE_SILENT: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = gatherOutput(child);
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = args.includes('--json') ? (JSON.parse(output.stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, ...output, json });
    });
  });
}

/** The network interfaces a process inside `unshare -n` sees (from its /proc/net/dev). */
export function interfacesWithoutNetwork(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', 'cat', '/proc/net/dev'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = gatherOutput(child);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`unshare -n failed (${code}): ${output.stderr}`));
      // Two header lines, then "  name: counters..." per interface.
      resolve(
        output.stdout
          .split('\n')
          .slice(2)
          .map((line) => line.split(':')[0]?.trim() ?? '')
          .filter(Boolean),
      );
    });
  });
}
