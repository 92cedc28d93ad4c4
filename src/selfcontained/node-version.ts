/** The oldest Node offline runs on (ssri, one of its dependencies, needs 20.17). */
const MIN_NODE = { major: 20, minor: 17 } as const;

/** The Node versions offline.mjs runs on, as the manifest records them. */
export const IMPORTER_NODE = `>=${MIN_NODE.major}.${MIN_NODE.minor}`;

/**
 * The one-line refusal for a Node older than offline runs on (`version` as process.versions.node gives it), or
 * undefined when it is new enough: an older Node would fail later with an error that names something else.
 */
export function nodeTooOld(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor)) return undefined;
  return `offline needs Node ${IMPORTER_NODE.slice(2)} or later, and this is Node ${version}; on a host without it, a bundle's import.sh (sh, coreutils or busybox, and docker) or its ./offline (export --with-runtime) imports without Node`;
}
