import { afterEach, describe, expect, it, vi } from 'vitest';
import { bypassesProxy } from '../../src/tiktoken/no-proxy.js';
import { prefetchTiktoken } from '../../src/tiktoken/prefetch.js';
import { proxyAgentsFor } from '../../src/tiktoken/proxy.js';
import { tempDir } from '../support/temp-dir.js';
import { type FileServer, startFileServer } from '../support/tiktoken-server.js';
import { type LoggingProxy, startLoggingProxy } from './support/logging-proxy.js';

const R50K = '/encodings/r50k_base.tiktoken';

let closers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closers.map((c) => c.close()));
  closers = [];
});

async function started<T extends { close(): Promise<void> }>(thing: Promise<T>): Promise<T> {
  const value = await thing;
  closers.push(value);
  return value;
}

/** A proxy for both schemes, and NO_PROXY as given (the variables of the test runner cleared). */
function useProxy(proxy: LoggingProxy, noProxy: string): void {
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
    vi.stubEnv(name, '');
  }
  vi.stubEnv('HTTP_PROXY', proxy.url);
  vi.stubEnv('HTTPS_PROXY', proxy.url);
  vi.stubEnv('NO_PROXY', noProxy);
}

async function fetchR50k(baseUrl: string): Promise<unknown> {
  return prefetchTiktoken({ outDir: await tempDir(), encodings: ['r50k_base'], baseUrl, retries: 0 }).catch(
    (e: unknown) => e,
  );
}

/** host:port of a server's URL. */
const hostOf = (server: FileServer) => new URL(server.url).host;

describe('proxy support', () => {
  it('sends a plain-http download to HTTP_PROXY in absolute form (no CONNECT); NO_PROXY exempts hosts', async () => {
    const files = await started(startFileServer());
    const proxy = await started(startLoggingProxy());
    useProxy(proxy, 'example.org');
    expect(await fetchR50k(files.url)).toMatchObject([{ source: 'download' }]);
    expect(proxy.seen).toEqual([`GET ${files.url}${R50K}`]);
    vi.stubEnv('NO_PROXY', '127.0.0.1');
    expect(await fetchR50k(files.url)).toMatchObject([{ source: 'download' }]);
    expect(proxy.seen).toHaveLength(1);
  });

  it('chooses the proxy again for each redirect hop', async () => {
    const direct = await started(startFileServer('127.0.0.1'));
    const proxied = await started(startFileServer('127.0.0.2'));
    const proxy = await started(startLoggingProxy({ refuseConnect: true }));
    useProxy(proxy, '127.0.0.1');
    // a NO_PROXY mirror redirecting outside: the second hop goes through the proxy
    direct.fault(R50K, { kind: 'redirect', to: `${proxied.url}${R50K}` });
    expect(await fetchR50k(direct.url)).toMatchObject([{ source: 'download' }]);
    expect(proxy.seen).toEqual([`GET ${proxied.url}${R50K}`]);
    expect(direct.requests).toEqual([R50K]);
    // a proxied mirror redirecting to a NO_PROXY host: the second hop is direct
    proxied.fault(R50K, { kind: 'redirect', to: `${direct.url}${R50K}` });
    expect(await fetchR50k(proxied.url)).toMatchObject([{ source: 'download' }]);
    expect(proxy.seen).toEqual([`GET ${proxied.url}${R50K}`, `GET ${proxied.url}${R50K}`]);
    expect(direct.requests).toEqual([R50K, R50K]);
    // http redirecting to https: the https hop is tunnelled through HTTPS_PROXY (which refuses it here)
    proxied.fault(R50K, { kind: 'redirect', to: `https://${hostOf(proxied)}${R50K}` });
    expect(await fetchR50k(proxied.url)).toMatchObject({ code: 'EDOWNLOAD' });
    expect(proxy.seen.at(-1)).toBe(`CONNECT ${hostOf(proxied)}`);
  });

  it('counts an empty variable as unset: NO_PROXY="" leaves no_proxy in force', () => {
    const url = new URL('http://127.0.0.1:8080/x');
    const env = { HTTP_PROXY: '', http_proxy: 'http://proxy:3128', NO_PROXY: '', no_proxy: '127.0.0.1' };
    expect(proxyAgentsFor(url, env)).toEqual({});
    expect(proxyAgentsFor(url, { ...env, no_proxy: '' }).http).toBeDefined();
  });

  it('matches NO_PROXY rules like curl does', () => {
    const url = new URL('https://openaipublic.blob.core.windows.net/x');
    expect(bypassesProxy(url, '.windows.net')).toBe(true);
    expect(bypassesProxy(url, 'core.windows.net')).toBe(true);
    expect(bypassesProxy(url, 'windows.com,example.org')).toBe(false);
    expect(bypassesProxy(url, '*')).toBe(true);
    expect(bypassesProxy(url, 'openaipublic.blob.core.windows.net:80')).toBe(false);
  });

  it.each([
    ['http://10.1.2.3/x', '10.0.0.0/8', true],
    ['http://11.1.2.3/x', '10.0.0.0/8', false],
    ['http://10.1.2.3:8080/x', '10.0.0.0/8:8080', true],
    ['http://[::1]:8080/x', '::1', true],
    ['http://[::1]:8080/x', '[::1]', true],
    ['http://[::1]:8080/x', '[::1]:8080', true],
    ['http://[::1]:8080/x', '[::1]:9090', false],
    ['http://[fd00::5]/x', 'fd00::/8', true],
    ['http://[fe80::5]/x', 'fd00::/8', false],
    ['http://127.0.0.1/x', '0.0.1', false],
    ['http://127.0.0.1/x', '127.0.0.1/33', false],
  ])('NO_PROXY: %s with %s -> %s (CIDR ranges and IPv6 literals)', (url, rule, bypassed) => {
    expect(bypassesProxy(new URL(url), rule)).toBe(bypassed);
  });
});
