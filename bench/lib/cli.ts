import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The built CLI, run as users run it: `node dist/cli/main.js` (no tsx loader in the measured memory). */
export const builtCli = path.join(repo, 'dist/cli/main.js');

/** `npm run build`, so the figures are for the code in the tree. */
export function buildCli(): void {
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repo, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status})`);
}
