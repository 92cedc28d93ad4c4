import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REAL_FILES } from '../../support/tiktoken-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** How the server answers one path: given the response and the real file's bytes. */
export type Route = (res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface ScriptedServer {
  url: string;
  /** Paths in the order their requests arrived. */
  requests: string[];
  close(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends the headers and the first `bytes` of the body, then nothing, keeping the connection open. */
export function stallAfter(bytes: number): Route {
  return (res, body) => {
    res.writeHead(200, { 'content-length': body.length });
    res.write(body.subarray(0, bytes));
  };
}

/** Never answers: no headers, no body. */
export const noAnswer: Route = () => undefined;

/** The whole body in `pieces` writes, `everyMs` apart: slow but never idle for long. */
export function trickle(pieces: number, everyMs: number, onFirst?: () => void): Route {
  return async (res, body) => {
    res.writeHead(200, { 'content-length': body.length });
    const step = Math.ceil(body.length / pieces);
    for (let offset = 0; offset < body.length; offset += step) {
      if (res.destroyed) return;
      res.write(body.subarray(offset, offset + step));
      if (offset === 0) onFirst?.();
      await pause(everyMs);
    }
    res.end();
  };
}

/**
 * A local server for the real tiktoken files on 127.0.0.1 whose answer per path is scripted; a path without
 * a route gets its whole file, one not in REAL_FILES a 404.
 */
export async function startScriptedServer(routes: Record<string, Route> = {}): Promise<ScriptedServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(urlPath);
    const file = REAL_FILES[urlPath];
    if (!file) return void res.writeHead(404).end('not found');
    const body = readFileSync(path.join(root, file));
    const route = routes[urlPath];
    if (route) return void route(res, body);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with this status and no file. */
export function status(code: number, before?: Promise<unknown>): Route {
  return async (res) => {
    await before;
    res.writeHead(code).end('failure');
  };
}
