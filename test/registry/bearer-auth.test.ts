import http from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/client.js';
import { parseTarget } from '../../src/registry/target.js';

// A registry front that speaks Docker token auth: /v2/ answers 401 with a Bearer challenge; /token hands out a
// token per scope to alice:s3cret (and anonymous tokens for pull only); blob HEADs need the token of their scope.
let server: http.Server;
let host: string;
const tokenRequests: string[] = [];
/** Body bytes the upload route received, per request. */
const uploads: number[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/html-token') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>');
      return;
    }
    if (url.pathname === '/v2/html/') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/html-token"` }).end();
      return;
    }
    if (url.pathname === '/token') {
      const scopes = url.searchParams.getAll('scope');
      tokenRequests.push(scopes.join(' '));
      const basic = Buffer.from('alice:s3cret').toString('base64');
      if (
        req.headers.authorization !== `Basic ${basic}` ||
        url.searchParams.get('service') !== 'test-registry'
      ) {
        res.writeHead(401).end('{"details":"bad credentials"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `tok:${scopes.join(' ')}` }));
      return;
    }
    if (req.method === 'PATCH') {
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      req.on('end', () => uploads.push(size));
    }
    const repo = /^\/v2\/(.+)\/blobs\//.exec(url.pathname)?.[1];
    const wanted = repo ? `Bearer tok:repository:${repo}:pull,push` : undefined;
    const ok =
      url.pathname === '/v2/'
        ? req.headers.authorization?.startsWith('Bearer tok:')
        : req.headers.authorization === wanted;
    if (!ok) {
      const scope = repo ? `,scope="repository:${repo}:pull,push"` : '';
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${host}/token",service="test-registry"${scope}`,
        'content-type': 'application/json',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (req.method === 'PATCH') {
      req.on('end', () => res.writeHead(202, { location: url.pathname }).end());
      return;
    }
    res.writeHead(url.pathname === '/v2/' ? 200 : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('bearer token auth', () => {
  it('answers the challenge with a token per repository scope, fetched with the basic credentials', async () => {
    const client = new RegistryClient(parseTarget(`${host}/site`, true), {
      credentials: { username: 'alice', password: 's3cret' },
    });
    try {
      await client.ping();
      const head = await client.request({
        method: 'HEAD',
        url: '/v2/site/app/blobs/sha256:00',
        repositories: ['site/app'],
      });
      expect(head.status).toBe(404);
      // The token is cached for its scope: a second request asks the token endpoint nothing.
      const before = tokenRequests.length;
      await client.request({
        method: 'HEAD',
        url: '/v2/site/app/blobs/sha256:01',
        repositories: ['site/app'],
      });
      expect(tokenRequests.length).toBe(before);
      expect(tokenRequests).toContain('repository:site/app:pull,push');
    } finally {
      client.close();
    }
  });

  it('counts a chunk sent again after a 401 (no token yet, or an expired one) once in the bytes sent', async () => {
    const client = new RegistryClient(parseTarget(host, true), {
      credentials: { username: 'alice', password: 's3cret' },
    });
    try {
      uploads.length = 0;
      const chunk = Buffer.alloc(100_000, 1);
      const patched = await client.request({
        method: 'PATCH',
        url: '/v2/site/app/blobs/uploads/1',
        repositories: ['site/app'],
        headers: { 'content-length': String(chunk.length) },
        body: () => Readable.from([chunk]),
        countBytes: true,
      });
      expect(patched.status).toBe(202);
      // Sent twice (the registry asked for a token after reading the first), counted once.
      expect(uploads).toEqual([chunk.length, chunk.length]);
      expect(client.bytesSent).toBe(chunk.length);
    } finally {
      client.close();
    }
  });

  it('names a token endpoint that answers no JSON EREGISTRY, with its address', async () => {
    const client = new RegistryClient(parseTarget(host, true));
    try {
      await expect(
        client.request({ method: 'GET', url: '/v2/html/', repositories: [] }),
      ).rejects.toMatchObject({
        code: 'EREGISTRY',
        message: expect.stringContaining(`http://${host}/html-token`),
        found: '<html>sign in</html>',
      });
    } finally {
      client.close();
    }
  });

  it('names refused credentials at the token endpoint EAUTH', async () => {
    const client = new RegistryClient(parseTarget(host, true), {
      credentials: { username: 'alice', password: 'wrong' },
    });
    try {
      await expect(client.ping()).rejects.toMatchObject({ code: 'EAUTH' });
    } finally {
      client.close();
    }
  });
});
