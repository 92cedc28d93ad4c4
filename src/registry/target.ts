import { OfflineError } from '../errors.js';

/** Where images go: `HOST[:PORT][/PREFIX]`, e.g. `registry.local:5000/demo`. */
export interface RegistryTarget {
  /** host[:port], as written. */
  host: string;
  /** Repository path prefix without slashes at either end; '' for none. */
  prefix: string;
  /** http for --insecure, else https. */
  scheme: 'http' | 'https';
}

/** One tag to push: the bundle's tag and the repository and tag it gets in the registry. */
export interface TagMapping {
  source: string;
  repository: string;
  tag: string;
  /** The full reference a host pulls: host/repository:tag. */
  reference: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/;

export function parseTarget(text: string, insecure: boolean): RegistryTarget {
  const usage = (why: string) =>
    new OfflineError('EUSAGE', `--registry "${text}": ${why}`, {
      found: text,
      hint: 'give HOST[:PORT][/PREFIX], e.g. registry.local:5000/demo (add --insecure for plain HTTP)',
    });
  if (/^[a-z]+:\/\//i.test(text)) throw usage('no scheme; use --insecure for plain HTTP');
  const [host = '', ...rest] = text.replace(/\/+$/, '').split('/');
  if (!HOST.test(host)) throw usage(`"${host}" is not a host name with an optional port`);
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw usage(`port ${port} is not between 1 and 65535`);
  }
  for (const part of rest)
    if (!COMPONENT.test(part)) throw usage(`"${part}" is not a valid repository path part`);
  return { host, prefix: rest.join('/'), scheme: insecure ? 'http' : 'https' };
}

/**
 * Maps a bundle tag (`demo-api:1.0.0`, `docker.io/library/nginx:1.25`, `old.registry:5000/team/app:2`) under the
 * target: the source registry's host is dropped, and Docker Hub's `library/` with it, so `nginx:1.25` becomes
 * `HOST/PREFIX/nginx:1.25`.
 */
export function mapTag(source: string, target: RegistryTarget): TagMapping {
  const { domain, path: full, tag } = splitReference(source);
  const parts = full.split('/');
  if (domain === HUB && parts.length > 1 && parts[0] === 'library') parts.shift();
  const name = parts.join('/');
  if (!parts.every((p) => COMPONENT.test(p)) || !TAG.test(tag)) {
    throw new OfflineError('EFORMAT', `image tag "${source}" cannot be mapped to a registry repository`, {
      file: source,
    });
  }
  const repository = target.prefix ? `${target.prefix}/${name}` : name;
  return { source, repository, tag, reference: `${target.host}/${repository}:${tag}` };
}

/** Two different images that would get one registry name: the second push would replace the first. */
export function sameTarget(reference: string, first: string, second: string): OfflineError {
  return new OfflineError(
    'EFORMAT',
    `${first} and ${second} are different images but both map to ${reference}`,
    {
      file: reference,
      hint: 'give the images names that differ after the registry host, and export again',
    },
  );
}

const HUB = 'docker.io';

/** An image reference's registry (docker.io when it names none), repository path and tag (latest when none). */
function splitReference(reference: string): { domain: string; path: string; tag: string } {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  const hasTag = colon > slash;
  const name = hasTag ? reference.slice(0, colon) : reference;
  const tag = hasTag ? reference.slice(colon + 1) : 'latest';
  const parts = name.split('/');
  const first = parts[0] ?? '';
  const hasDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const domain = hasDomain ? (parts.shift() as string) : HUB;
  return { domain: domain === 'index.docker.io' ? HUB : domain, path: parts.join('/'), tag };
}

/**
 * The full name Docker gives a reference (its ParseNormalizedNamed): `x:1`, `library/x:1` and
 * `docker.io/library/x:1` are all `docker.io/library/x:1`; `x` is `x:latest`. The archive's RepoTags are the short
 * form, a compose file's `image:` is as written.
 */
export function normalizeReference(reference: string): string {
  const { domain, path, tag } = splitReference(reference);
  const full = domain === HUB && !path.includes('/') ? `library/${path}` : path;
  return `${domain}/${full}:${tag}`;
}

export function baseUrl(target: RegistryTarget): string {
  return `${target.scheme}://${target.host}`;
}
