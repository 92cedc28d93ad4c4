import { readFile } from 'node:fs/promises';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';

type Factory = typeof import('@balena/dockerignore')['default'];
// CommonJS: module.exports is the factory itself, while its types describe an ES default export.
const ignore = dockerignore as unknown as Factory;

/** A matcher with Docker's .dockerignore semantics (`dir` covers everything under it, `**`, `!` exceptions). */
export function patternMatcher(patterns: readonly string[]): (relative: string) => boolean {
  const rules = ignore().add([...patterns]);
  return (relative) => rules.ignores(relative);
}

export interface IgnoreRules {
  /** true when the relative POSIX path is left out of the build context. */
  ignores(relative: string): boolean;
  /** The rules re-include something (`!pattern`), so an ignored folder may still hold kept files. */
  hasExceptions: boolean;
}

/** The context's .dockerignore, as the classic builder reads it; an empty rule set when there is none. */
export async function readDockerignore(context: string): Promise<IgnoreRules> {
  const text = await readFile(path.join(context, '.dockerignore'), 'utf8').catch(() => '');
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const matches = patternMatcher(patterns);
  return {
    ignores: (relative) => relative !== '' && matches(relative),
    hasExceptions: patterns.some((p) => p.startsWith('!')),
  };
}

/**
 * Whether an entry of the build context goes to the engine (a folder: is entered): what the rules keep, and
 * always the Dockerfile, the .dockerignore and the folders on the way to the Dockerfile, as the docker CLI
 * adds `!<dockerfile>` and `!.dockerignore` to the rules. An ignored folder is still entered when a `!` rule may
 * re-include something inside it. `dockerfile` is the context-relative POSIX path.
 */
export function sentToEngine(
  rules: IgnoreRules,
  dockerfile: string,
): (relative: string, directory: boolean) => boolean {
  return (relative, directory) =>
    relative === '.dockerignore' ||
    relative === dockerfile ||
    !rules.ignores(relative) ||
    (directory && (rules.hasExceptions || dockerfile.startsWith(`${relative}/`)));
}
