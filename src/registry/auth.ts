import { OfflineError } from '../errors.js';
import { type HttpResponse, send } from './http.js';

export interface Credentials {
  username: string;
  password: string;
}

/** A parsed WWW-Authenticate header: Basic, or Bearer with its token endpoint. */
export interface Challenge {
  scheme: 'basic' | 'bearer';
  realm?: string;
  service?: string;
}

export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const m of (match?.[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) params[m[1] as string] = m[2] as string;
  return {
    scheme,
    ...(params.realm && { realm: params.realm }),
    ...(params.service && { service: params.service }),
  };
}

export function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

export function authError(registry: string, credentials: Credentials | undefined, response: HttpResponse) {
  return new OfflineError(
    'EAUTH',
    credentials
      ? `${registry}: the registry refused the credentials of user "${credentials.username}" (HTTP ${response.status})`
      : `${registry}: the registry asks for credentials (HTTP ${response.status})`,
    {
      file: registry,
      hint: credentials
        ? 'check the user name and password'
        : 'pass --username U --password-stdin, or set OFFLINE_REGISTRY_USER and OFFLINE_REGISTRY_PASSWORD',
    },
  );
}

/** Bearer token from the challenge's realm for the given scopes (Docker token auth, basic auth to the realm). */
export async function fetchToken(
  challenge: Challenge,
  scopes: string[],
  credentials: Credentials | undefined,
  registry: string,
  agents: Parameters<typeof send>[1],
  signal?: AbortSignal,
  idleTimeout?: number,
): Promise<string> {
  if (!challenge.realm) {
    throw new OfflineError('EREGISTRY', `${registry}: bearer challenge without a realm`, { file: registry });
  }
  const url = new URL(challenge.realm);
  if (challenge.service) url.searchParams.set('service', challenge.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const response = await send(
    {
      method: 'GET',
      url: url.toString(),
      headers: credentials ? { authorization: basicHeader(credentials) } : {},
      ...(signal && { signal }),
    },
    agents,
    idleTimeout,
  );
  if (response.status === 401 || response.status === 403) throw authError(registry, credentials, response);
  if (response.status !== 200) {
    throw new OfflineError('EREGISTRY', `${url.origin}: token endpoint answered HTTP ${response.status}`, {
      file: url.origin,
      found: response.body.slice(0, 200),
    });
  }
  const token = tokenOf(response.body);
  if (!token) {
    throw new OfflineError(
      'EREGISTRY',
      `${url.origin}${url.pathname}: the token endpoint answered no token`,
      {
        file: url.origin,
        expected: 'JSON with a token',
        found: response.body.slice(0, 100),
      },
    );
  }
  return token;
}

function tokenOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { token?: unknown; access_token?: unknown } | null;
    const token = parsed?.token ?? parsed?.access_token;
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}
