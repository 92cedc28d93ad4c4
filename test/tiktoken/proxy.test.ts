import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { prefetchTiktoken } from '../../src/tiktoken/prefetch.js';
import { bypassesProxy } from '../../src/tiktoken/proxy.js';
import { tempDir } from '../support/temp-dir.js';
import { startFileServer } from '../support/tiktoken-server.js';

describe('proxy support', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('sends downloads through HTTP_PROXY (tunnelled), and NO_PROXY exempts hosts', async () => {
    const files = await startFileServer();
    const seen: string[] = [];
    // A tunnelling proxy, as hpagent speaks to one: CONNECT host:port, then bytes both ways.
    const proxy = createServer();
    proxy.on('connect', (req, client, head) => {
      seen.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      vi.stubEnv('HTTP_PROXY', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
      vi.stubEnv('NO_PROXY', '');
      await prefetchTiktoken({ outDir: await tempDir(), encodings: ['r50k_base'], baseUrl: files.url });
      expect(seen).toEqual([files.url.replace('http://', '')]);
      vi.stubEnv('NO_PROXY', '127.0.0.1');
      await prefetchTiktoken({ outDir: await tempDir(), encodings: ['r50k_base'], baseUrl: files.url });
      expect(seen).toHaveLength(1);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
      await files.close();
    }
  });

  it('matches NO_PROXY rules like curl does', () => {
    const url = new URL('https://openaipublic.blob.core.windows.net/x');
    expect(bypassesProxy(url, '.windows.net')).toBe(true);
    expect(bypassesProxy(url, 'core.windows.net')).toBe(true);
    expect(bypassesProxy(url, 'windows.com,example.org')).toBe(false);
    expect(bypassesProxy(url, '*')).toBe(true);
    expect(bypassesProxy(url, 'openaipublic.blob.core.windows.net:80')).toBe(false);
  });
});
