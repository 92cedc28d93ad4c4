import path from 'node:path';
import type { BundleManifest } from '../bundle/manifest.js';
import { shQuote } from '../selfcontained/sh-quote.js';
import type { ComposeInvocation } from './detect-tool.js';

/** What a compose command acts on: the project, its compose files (-f, in order) and profiles. */
export interface ComposeScope {
  project: string;
  files: readonly string[];
  profiles: readonly string[];
}

/** The arguments after the program that name the project: the tool's prefix, -p, each -f, each --profile. */
export function composeScopeArgs(tool: ComposeInvocation, scope: ComposeScope): string[] {
  return [
    ...tool.prefix,
    '-p',
    scope.project,
    ...scope.files.flatMap((f) => ['-f', f]),
    ...scope.profiles.flatMap((p) => ['--profile', p]),
  ];
}

/** `up` as offline starts a stack: detached, no build, and no pull where the tool takes `--pull` (v2). */
export function upArgs(tool: ComposeInvocation): string[] {
  return ['up', '-d', '--no-build', ...(tool.v2Flags ? ['--pull', 'never'] : [])];
}

/**
 * The command that starts the stack from the compose file's folder, as `offline import --start` runs it
 * (src/import/compose-start.ts): the bundle's project and every profile it records, no build, no pull. Used by
 * import.sh (its hint and --start) and README.txt, so the three agree.
 */
export function composeUpCommand(
  manifest: Pick<BundleManifest, 'compose' | 'project'>,
  tool: ComposeInvocation,
): string {
  const scope = {
    project: manifest.project,
    files: [path.posix.basename(manifest.compose.file)],
    profiles: manifest.compose.profiles,
  };
  return [tool.program, ...composeScopeArgs(tool, scope), ...upArgs(tool)].map(shQuote).join(' ');
}
