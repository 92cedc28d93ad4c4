import { createServer, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';

export interface LoggingProxy {
  url: string;
  /** Each request as it arrived: `GET http://host:port/path` (absolute form) or `CONNECT host:port`. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 that logs what it is asked: absolute-form requests are forwarded, CONNECT tunnels
 * are opened, or refused with 403 when `refuseConnect` (an https URL then fails, after the log shows it).
 */
export async function startLoggingProxy(options: { refuseConnect?: boolean } = {}): Promise<LoggingProxy> {
  const seen: string[] = [];
  const proxy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const upstream = request(req.url ?? '', { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const tunnels = new Set<{ destroy(): void }>();
  proxy.on('connect', (req, client, head) => {
    seen.push(`CONNECT ${req.url}`);
    tunnels.add(client);
    if (options.refuseConnect) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    tunnels.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        for (const socket of tunnels) socket.destroy();
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}
