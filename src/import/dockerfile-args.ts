import { parseDockerfile } from '../export/dockerfile-stages.js';

/**
 * Args the build takes without an ARG line (docker's predefined proxy args): a `--build-arg` of one of these
 * is used even when the Dockerfile does not declare it.
 */
const PREDEFINED = new Set(
  ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((n) => [n, n.toLowerCase()]),
);

/**
 * The names a Dockerfile declares with ARG, in any stage or before the first FROM (`ARG A`, `ARG A=1 B=2`),
 * plus docker's predefined args: a build arg outside this set is one the build does not use, which docker
 * reports as "[Warning] One or more build-args [X] were not consumed".
 */
export function declaredArgs(dockerfile: string): Set<string> {
  return new Set([...PREDEFINED, ...parseDockerfile(dockerfile).args]);
}
