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
  const slash = source.lastIndexOf('/');
  const colon = source.lastIndexOf(':');
  const hasTag = colon > slash;
  let name = hasTag ? source.slice(0, colon) : source;
  const tag = hasTag ? source.slice(colon + 1) : 'latest';
  const parts = name.split('/');
  const first = parts[0] ?? '';
  const hasDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) parts.shift();
  const hub = !hasDomain || first === 'docker.io' || first === 'index.docker.io';
  if (hub && parts.length > 1 && parts[0] === 'library') parts.shift();
  name = parts.join('/');
  if (!parts.every((p) => COMPONENT.test(p)) || !TAG.test(tag)) {
    throw new OfflineError('EFORMAT', `image tag "${source}" cannot be mapped to a registry repository`, {
      file: source,
    });
  }
  const repository = target.prefix ? `${target.prefix}/${name}` : name;
  return { source, repository, tag, reference: `${target.host}/${repository}:${tag}` };
}

export function baseUrl(target: RegistryTarget): string {
  return `${target.scheme}://${target.host}`;
}
