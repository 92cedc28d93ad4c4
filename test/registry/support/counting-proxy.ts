import http from 'node:http';

export interface ProxyRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface CountingProxy {
  host: string;
  /** Every request seen, in order. */
  requests: ProxyRequest[];
  /** Body bytes of blob upload requests (PATCH, and PUT to /blobs/uploads/). */
  uploadBytes: number;
  /** Blob upload requests (PATCH, and PUT to /blobs/uploads/). */
  uploadRequests(): ProxyRequest[];
  /**
   * Decides per request: forward it, or hold it (never forwarded, never answered) e.g. to kill the client while
   * the registry has seen exactly what came before.
   */
  hold?: (request: ProxyRequest) => boolean;
  /**
   * Forwards only the first bytes of a request's body (the number returned), then cuts the registry's connection
   * and never answers the client: a chunk half sent when the client died.
   */
  cut?: (request: ProxyRequest) => number | undefined;
  /** Answers a request itself, never forwarding it (e.g. a 401 from a front end, a 500). */
  answer?: (request: ProxyRequest) => ProxyAnswer | undefined;
  /** Changes the registry's answer (status, headers) before the client gets it; its body is kept. */
  rewrite?: (request: ProxyRequest, answer: ProxyAnswer) => void;
  close(): Promise<void>;
}

export interface ProxyAnswer {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body?: string;
}

const isUpload = (r: ProxyRequest) =>
  r.path.includes('/blobs/uploads/') && (r.method === 'PATCH' || r.method === 'PUT');

/** A plain HTTP proxy in front of a registry that counts what the client sends. */
export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const held = new Set<http.ServerResponse>();
  const proxy: CountingProxy = {
    host: '',
    requests: [],
    uploadBytes: 0,
    uploadRequests: () => proxy.requests.filter(isUpload),
    close: () =>
      new Promise((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const request = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    proxy.requests.push(request);
    if (proxy.hold?.(request)) {
      held.add(res);
      req.resume();
      return;
    }
    const own = proxy.answer?.(request);
    if (own) {
      req.resume();
      req.on('end', () => res.writeHead(own.status, own.headers).end(own.body));
      return;
    }
    const upload = isUpload(request);
    const limit = proxy.cut?.(request);
    const out = http.request(
      `http://${upstream}${request.path}`,
      { method: request.method, headers: req.headers },
      (answer) => {
        if (limit !== undefined) return void answer.resume();
        const given: ProxyAnswer = { status: answer.statusCode ?? 502, headers: { ...answer.headers } };
        proxy.rewrite?.(request, given);
        res.writeHead(given.status, given.headers);
        answer.pipe(res);
      },
    );
    // A cut request's client stays waiting (held) until the test kills it.
    out.on('error', () => {
      if (limit === undefined) res.destroy();
    });
    if (limit !== undefined) {
      held.add(res);
      let sent = 0;
      req.on('data', (chunk: Buffer) => {
        if (sent >= limit) return;
        const part = chunk.subarray(0, limit - sent);
        sent += part.length;
        proxy.uploadBytes += part.length;
        out.write(part);
        if (sent >= limit) setTimeout(() => out.destroy(), 200);
      });
      return;
    }
    req.on('data', (chunk: Buffer) => {
      if (upload) proxy.uploadBytes += chunk.length;
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  proxy.host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return proxy;
}
