import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Measured, measure } from './measure.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The built CLI, run as users run the `offline` command (no tsx loader in the measured memory): dist/offline.mjs
 * run as a program, through its launcher (src/selfcontained/launcher.ts). The same single file every bundle
 * carries, which the air-gapped host runs as `./offline.mjs` or `node offline.mjs`.
 */
export const builtCli = path.join(repo, 'dist/offline.mjs');

/** `npm run build` and `npm run build:importer` (as `make build`), so the figures are for the code in the tree. */
export function buildCli(): void {
  for (const script of ['build', 'build:importer']) {
    const result = spawnSync('npm', ['run', '--silent', script], { cwd: repo, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`npm run ${script} failed (exit ${result.status})`);
  }
}

/**
 * Not timed in the benchmarks that use it: `offline export` of a compose stack (no pull, the stack's images
 * built locally) into `out`, with `extra` options, by the built CLI.
 */
export async function exportStack(
  stack: string,
  bundle: { name: string; version: string; out: string },
  env: NodeJS.ProcessEnv,
  extra: string[] = [],
): Promise<Measured> {
  const args = ['export', '-f', path.join(stack, 'docker-compose.yml'), '--name', bundle.name];
  args.push('--version', bundle.version, '--out', bundle.out, '--pull', 'never', '--force', '--json');
  return measure(builtCli, [...args, ...extra], { env });
}
