import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The built CLI, run as users run it (no tsx loader in the measured memory): the `offline` bin, dist/offline.mjs,
 * the same single file every bundle carries and the air-gapped host runs as `node offline.mjs`.
 */
export const builtCli = path.join(repo, 'dist/offline.mjs');

/** `npm run build` and `npm run build:importer` (as `make build`), so the figures are for the code in the tree. */
export function buildCli(): void {
  for (const script of ['build', 'build:importer']) {
    const result = spawnSync('npm', ['run', '--silent', script], { cwd: repo, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`npm run ${script} failed (exit ${result.status})`);
  }
}
