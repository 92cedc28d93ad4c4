import type { Readable } from 'node:stream';
import { OfflineError } from '../errors.js';
import {
  authError,
  basicHeader,
  type Challenge,
  type Credentials,
  fetchToken,
  parseChallenge,
} from './auth.js';
import { createAgents, type HttpResponse, send } from './http.js';
import { baseUrl, type RegistryTarget } from './target.js';

export interface ClientOptions {
  credentials?: Credentials;
  ca?: Buffer;
  signal?: AbortSignal;
}

export interface RegistryRequest {
  method: string;
  /** A path under the registry (/v2/...) or an absolute upload URL from a Location header. */
  url: string;
  /** Repositories this request touches; the first needs pull+push, the others pull (for bearer scopes). */
  repositories: string[];
  headers?: Record<string, string>;
  body?: Buffer | (() => Readable);
  /** Count the body's bytes as blob bytes sent. */
  countBytes?: boolean;
}

/**
 * Registry HTTP API v2 over node:http(s): answers the Basic or Bearer challenge (one token per scope set, cached),
 * counts blob bytes sent, and turns a refused login into EAUTH.
 */
export class RegistryClient {
  readonly origin: string;
  /** Blob bytes sent in upload bodies. */
  bytesSent = 0;
  private readonly agents;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly target: RegistryTarget,
    private readonly options: ClientOptions = {},
  ) {
    this.origin = baseUrl(target);
    this.agents = createAgents(options.ca);
  }

  /** GET /v2/: proves the registry speaks API v2 and learns how it authenticates. */
  async ping(): Promise<void> {
    const response = await this.request({ method: 'GET', url: '/v2/', repositories: [] });
    if (response.status !== 200) throw this.unexpected('GET /v2/', response);
  }

  async request(request: RegistryRequest): Promise<HttpResponse> {
    let response = await this.once(request);
    if (response.status !== 401) return response;
    const challenge = parseChallenge(header(response, 'www-authenticate'));
    if (!challenge) throw authError(this.target.host, this.options.credentials, response);
    const hadAuth = this.challenge !== undefined && this.authorization(request.repositories) !== undefined;
    this.challenge = challenge;
    if (challenge.scheme === 'basic' && !this.options.credentials) {
      throw authError(this.target.host, undefined, response);
    }
    if (challenge.scheme === 'bearer') {
      const key = scopes(request.repositories).join(' ');
      this.tokens.set(
        key,
        await fetchToken(
          challenge,
          scopes(request.repositories),
          this.options.credentials,
          this.target.host,
          this.agents,
          this.options.signal,
        ),
      );
    } else if (hadAuth) {
      throw authError(this.target.host, this.options.credentials, response);
    }
    response = await this.once(request);
    if (response.status === 401) throw authError(this.target.host, this.options.credentials, response);
    return response;
  }

  unexpected(what: string, response: HttpResponse): OfflineError {
    const detail = registryErrors(response.body);
    return new OfflineError(
      'EREGISTRY',
      `${this.target.host}: ${what} answered HTTP ${response.status}${detail}`,
      {
        file: `${this.origin}`,
        found: response.status,
      },
    );
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private once(request: RegistryRequest): Promise<HttpResponse> {
    const url = new URL(request.url, this.origin).toString();
    const auth = this.authorization(request.repositories);
    return send(
      {
        method: request.method,
        url,
        headers: { ...request.headers, ...(auth && { authorization: auth }) },
        ...(request.body !== undefined && { body: request.body }),
        ...(this.options.signal && { signal: this.options.signal }),
        ...(request.countBytes && {
          onSent: (n: number) => {
            this.bytesSent += n;
          },
        }),
      },
      this.agents,
    );
  }

  private authorization(repositories: string[]): string | undefined {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === 'basic') {
      return this.options.credentials ? basicHeader(this.options.credentials) : undefined;
    }
    const token = this.tokens.get(scopes(repositories).join(' '));
    return token ? `Bearer ${token}` : undefined;
  }
}

function scopes(repositories: string[]): string[] {
  return repositories.map((repo, i) => `repository:${repo}:${i === 0 ? 'pull,push' : 'pull'}`);
}

export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The registry's own error codes and messages from its JSON error body, for the one-line message. */
function registryErrors(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    const errors = parsed.errors ?? [];
    return errors.length ? `: ${errors.map((e) => `${e.code} ${e.message ?? ''}`.trim()).join('; ')}` : '';
  } catch {
    return '';
  }
}
