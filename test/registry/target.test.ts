import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCredentials } from '../../src/registry/credentials.js';
import { mapTag, parseTarget } from '../../src/registry/target.js';

describe('registry target and tag mapping', () => {
  it('parses HOST[:PORT][/PREFIX] and refuses schemes and bad names', () => {
    expect(parseTarget('registry.local:5000/team/demo', false)).toEqual({
      host: 'registry.local:5000',
      prefix: 'team/demo',
      scheme: 'https',
    });
    expect(parseTarget('127.0.0.1:5000/', true)).toEqual({
      host: '127.0.0.1:5000',
      prefix: '',
      scheme: 'http',
    });
    expect(() => parseTarget('http://registry.local', true)).toThrow(
      expect.objectContaining({ code: 'EUSAGE' }),
    );
    expect(() => parseTarget('registry.local/Upper', false)).toThrow(
      expect.objectContaining({ code: 'EUSAGE' }),
    );
    expect(() => parseTarget('bad host:5000', false)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
  });

  it('maps tags under the prefix, dropping a source registry host and Docker Hub library/', () => {
    const target = parseTarget('reg:5000/site', true);
    expect(mapTag('demo-api:1.0.0', target)).toMatchObject({
      repository: 'site/demo-api',
      tag: '1.0.0',
      reference: 'reg:5000/site/demo-api:1.0.0',
    });
    expect(mapTag('docker.io/library/nginx:1.25', target).reference).toBe('reg:5000/site/nginx:1.25');
    expect(mapTag('old.example.com:5000/team/app:2', target).reference).toBe('reg:5000/site/team/app:2');
    expect(mapTag('localhost/app', target).reference).toBe('reg:5000/site/app:latest');
    expect(mapTag('offline-base/busybox:3d9f', parseTarget('reg', false)).reference).toBe(
      'reg/offline-base/busybox:3d9f',
    );
  });

  it('reads credentials from --password-stdin or the environment, never half of them', async () => {
    const stdin = Readable.from([Buffer.from('s3cret\n')]);
    expect(await readCredentials({ username: 'alice', passwordStdin: true }, stdin, {})).toEqual({
      username: 'alice',
      password: 's3cret',
    });
    const env = { OFFLINE_REGISTRY_USER: 'bob', OFFLINE_REGISTRY_PASSWORD: 'pw' };
    expect(await readCredentials({}, Readable.from([]), env)).toEqual({ username: 'bob', password: 'pw' });
    expect(await readCredentials({}, Readable.from([]), {})).toBeUndefined();
    await expect(readCredentials({ passwordStdin: true }, Readable.from([]), {})).rejects.toMatchObject({
      code: 'EUSAGE',
    });
    await expect(readCredentials({ username: 'alice' }, Readable.from([]), {})).rejects.toMatchObject({
      code: 'EUSAGE',
    });
    await expect(
      readCredentials({ username: 'alice', passwordStdin: true }, Readable.from([]), {}),
    ).rejects.toMatchObject({ code: 'EUSAGE' });
  });
});
