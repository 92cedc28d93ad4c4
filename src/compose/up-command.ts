import path from 'node:path';
import type { BundleManifest } from '../bundle/manifest.js';
import { shQuote } from '../selfcontained/sh-quote.js';

/**
 * The command that starts the stack from the compose file's folder, as `offline import --start` runs it
 * (src/import/compose-start.ts): the bundle's project and every profile it records, no build, no pull. Used by
 * import.sh (its hint and --start) and README.txt, so the three agree.
 */
export function composeUpCommand(
  manifest: Pick<BundleManifest, 'compose' | 'project'>,
  program: 'docker compose' | 'docker-compose',
): string {
  const profiles = manifest.compose.profiles.map((p) => `--profile ${shQuote(p)} `).join('');
  const file = shQuote(path.posix.basename(manifest.compose.file));
  const pull = program === 'docker compose' ? ' --pull never' : '';
  return `${program} -p ${shQuote(manifest.project)} -f ${file} ${profiles}up -d --no-build${pull}`;
}
