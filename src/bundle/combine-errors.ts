import { OfflineError } from '../errors.js';

/** One problem as itself; several as one error of the first one's code that carries them all. */
export function combineProblems(where: string, all: unknown[]): unknown {
  const errors = all.filter((e, i) => all.indexOf(e) === i);
  const first = errors[0];
  if (errors.length === 1 || !(first instanceof OfflineError)) return first;
  const offline = errors.filter((e): e is OfflineError => e instanceof OfflineError);
  return new OfflineError(first.code, `${where}: ${offline.length} problems, first: ${first.message}`, {
    file: first.file ?? where,
    ...(first.expected !== undefined && { expected: first.expected }),
    ...(first.found !== undefined && { found: first.found }),
    problems: offline,
  });
}
