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
import { DEFAULT_IDLE_TIMEOUT } from './idle-timeout.js';
import { baseUrl, type RegistryTarget } from './target.js';

export interface ClientOptions {
  credentials?: Credentials;
  ca?: Buffer;
  signal?: AbortSignal;
  /** A request silent both ways this long (ms) fails with EREGISTRY (default DEFAULT_IDLE_TIMEOUT). */
  idleTimeout?: number;
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
  /** Stops this request (with the client's own signal). */
  signal?: AbortSignal;
}

/**
 * Registry HTTP API v2 over node:http(s): answers the Basic or Bearer challenge (one token per scope set, cached),
 * counts blob bytes sent, and turns a refused login into EAUTH. Credentials go only to the registry's own origin
 * (and, for a token, to the realm its challenge names): an upload Location on another host gets none.
 */
export class RegistryClient {
  readonly origin: string;
  /**
   * Blob bytes sent in upload bodies, each body once: a body sent again after a 401 (a login asked for, a token
   * expired) counts only the second time.
   */
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
    if (response.status !== 200) throw this.unexpected('GET /v2/', response, 200);
  }

  async request(request: RegistryRequest): Promise<HttpResponse> {
    const first = await this.once(request);
    const response = first.response;
    // Only the registry's own challenge is answered: another host's would get the credentials or pick the realm.
    if (response.status !== 401 || !this.isOwn(request.url)) return this.counted(first);
    const challenge = parseChallenge(header(response, 'www-authenticate'));
    if (!challenge) throw authError(this.target.host, this.options.credentials, response);
    if (challenge.scheme === 'basic') {
      // Basic credentials sent with this very request and refused: sending them again changes nothing.
      if (!this.options.credentials || first.authorized) {
        throw authError(this.target.host, this.options.credentials, response);
      }
    } else {
      // No token for these scopes yet, or it expired: fetch one (refused credentials fail there, EAUTH).
      const wanted = scopes(request.repositories);
      this.tokens.set(
        wanted.join(' '),
        await fetchToken(
          challenge,
          wanted,
          this.options.credentials,
          this.target.host,
          this.agents,
          this.signal(request),
          this.idleTimeout,
        ),
      );
    }
    this.challenge = challenge;
    const second = await this.once(request);
    if (second.response.status === 401) {
      throw authError(this.target.host, this.options.credentials, second.response);
    }
    return this.counted(second);
  }

  /** EREGISTRY for an answer the protocol does not allow here: `expected` names the status that was due. */
  unexpected(what: string, response: HttpResponse, expected: string | number): OfflineError {
    const detail = registryErrors(response.body);
    return new OfflineError(
      'EREGISTRY',
      `${this.target.host}: ${what} answered HTTP ${response.status}${detail}`,
      {
        file: `${this.origin}`,
        expected,
        found: response.status,
      },
    );
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private get idleTimeout(): number {
    return this.options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  }

  private signal(request: RegistryRequest): AbortSignal | undefined {
    const signals = [this.options.signal, request.signal].filter((s) => s !== undefined);
    return signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  }

  private isOwn(url: string): boolean {
    return new URL(url, this.origin).origin === new URL(this.origin).origin;
  }

  /** One attempt: whether it carried credentials, and the blob bytes its body sent. */
  private async once(
    request: RegistryRequest,
  ): Promise<{ response: HttpResponse; authorized: boolean; sent: number }> {
    const url = new URL(request.url, this.origin).toString();
    const auth = this.isOwn(url) ? this.authorization(request.repositories) : undefined;
    const signal = this.signal(request);
    let sent = 0;
    const response = await send(
      {
        method: request.method,
        url,
        headers: { ...request.headers, ...(auth && { authorization: auth }) },
        ...(request.body !== undefined && { body: request.body }),
        ...(signal && { signal }),
        ...(request.countBytes && {
          onSent: (n: number) => {
            sent += n;
          },
        }),
      },
      this.agents,
      this.idleTimeout,
    );
    return { response, authorized: auth !== undefined, sent };
  }

  private counted(attempt: { response: HttpResponse; sent: number }): HttpResponse {
    this.bytesSent += attempt.sent;
    return attempt.response;
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
