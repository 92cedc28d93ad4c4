import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { rootCertificates } from 'node:tls';
import { OfflineError } from '../errors.js';
import { DEFAULT_IDLE_TIMEOUT } from './idle-timeout.js';

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** A small body, or a factory for a streamed one (called again when the request is retried). */
  body?: Buffer | (() => Readable);
  signal?: AbortSignal;
  /** Called with each body chunk's size as it is sent. */
  onSent?: (bytes: number) => void;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The response body, up to 1 MiB (registry answers are small JSON). */
  body: string;
}

const MAX_BODY = 1024 * 1024;

/**
 * HTTP/HTTPS agents for one registry: keep-alive, and for TLS the extra CA when given, trusted besides the
 * usual roots (as Docker adds a registry's CA to the system pool), not instead of them.
 */
export function createAgents(ca?: Buffer): { http: http.Agent; https: https.Agent } {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets: 8 }),
    https: new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      ...(ca && { ca: [...rootCertificates, ca.toString('utf8')] }),
    }),
  };
}

/**
 * One request; the body is streamed, never buffered. Network failures, and a connection silent both ways for
 * `idleTimeout` ms (a registry that stalls), become EREGISTRY naming the URL.
 */
export function send(
  request: HttpRequest,
  agents: { http: http.Agent; https: https.Agent },
  idleTimeout = DEFAULT_IDLE_TIMEOUT,
): Promise<HttpResponse> {
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = transport.request(url, {
      method: request.method,
      headers: request.headers,
      agent: secure ? agents.https : agents.http,
      signal: request.signal,
    });
    let timedOut = false;
    const fail = (error: Error) => {
      if (request.signal?.aborted) return reject(request.signal.reason ?? error);
      reject(
        new OfflineError('EREGISTRY', `${request.method} ${url.origin}${url.pathname}: ${error.message}`, {
          file: url.origin,
          hint: timedOut
            ? 'the registry stopped answering; run the same command again to continue the uploads (--request-timeout SECONDS waits longer)'
            : secure
              ? 'check the address; a registry on plain HTTP needs --insecure, a private CA needs --ca FILE'
              : 'check the address and that the registry is running',
          cause: error,
        }),
      );
    };
    req.on('error', fail);
    req.setTimeout(idleTimeout, () => {
      timedOut = true;
      req.destroy(new Error(`nothing sent or received for ${idleTimeout / 1000} s`));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    const body = request.body;
    if (body === undefined) return void req.end();
    if (Buffer.isBuffer(body)) {
      request.onSent?.(body.length);
      return void req.end(body);
    }
    const source = body();
    if (request.onSent) source.on('data', (chunk: Buffer) => request.onSent?.(chunk.length));
    pipeline(source, req).catch((error: Error) => {
      req.destroy(error);
      fail(error);
    });
  });
}
