import { Agent, type ClientRequest } from 'node:http';
import { connect as connectTcp } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as connectTls } from 'node:tls';

/**
 * Sends plain-http requests to an HTTP proxy in absolute form (`GET http://host/path`), as proxies expect for
 * http URLs; many refuse CONNECT to port 80 (hpagent's HttpProxyAgent tunnels, so it is used for https only).
 */
export class ForwardingAgent extends Agent {
  readonly #proxy: URL;

  constructor(proxy: string) {
    super({ keepAlive: false });
    this.#proxy = new URL(proxy);
  }

  /** Node calls this before the request line is written: the path becomes the whole URL. */
  addRequest(request: ClientRequest, options: object): void {
    request.path = `http://${String(request.getHeader('host'))}${request.path}`;
    const { username, password } = this.#proxy;
    if (username || password) {
      const credentials = `${decodeURIComponent(username)}:${decodeURIComponent(password)}`;
      request.setHeader('proxy-authorization', `Basic ${Buffer.from(credentials).toString('base64')}`);
    }
    (Agent.prototype as unknown as { addRequest(r: ClientRequest, o: object): void }).addRequest.call(
      this,
      request,
      options,
    );
  }

  /** The connection goes to the proxy, whatever host the request names. */
  override createConnection(): Duplex {
    const host = this.#proxy.hostname.replace(/^\[(.*)\]$/, '$1');
    if (this.#proxy.protocol === 'https:') {
      return connectTls({ host, port: Number(this.#proxy.port || 443), servername: host });
    }
    return connectTcp({ host, port: Number(this.#proxy.port || 80) });
  }
}
