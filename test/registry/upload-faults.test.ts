import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Blob, pushBlob } from '../../src/registry/blob-upload.js';
import { RegistryClient } from '../../src/registry/client.js';
import type { ArchiveImage, SpooledBlob } from '../../src/registry/image-archive.js';
import { pushImages } from '../../src/registry/pusher.js';
import { parseTarget } from '../../src/registry/target.js';
import { UploadState } from '../../src/registry/upload-state.js';
import { tempDir } from '../support/temp-dir.js';
import { type CountingProxy, type ProxyRequest, startCountingProxy } from './support/counting-proxy.js';
import { startRegistry, type TestRegistry } from './support/registry-server.js';

// Blob uploads against Debian's docker-registry behind a proxy that injects what real registries and networks do:
// redirects, stalls, errors, upload locations on another host.
const MiB = 1024 * 1024;
let registry: TestRegistry;
let proxy: CountingProxy;
const clients: RegistryClient[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startCountingProxy(registry.host);
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  Object.assign(proxy, { hold: undefined, answer: undefined, rewrite: undefined, requests: [] });
});

afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
});

function client(options: ConstructorParameters<typeof RegistryClient>[1] = {}): RegistryClient {
  const made = new RegistryClient(parseTarget(proxy.host, true), options);
  clients.push(made);
  return made;
}

async function randomBlob(size: number): Promise<Blob & SpooledBlob> {
  const data = randomBytes(size);
  const file = path.join(await tempDir(), 'blob');
  await writeFile(file, data);
  const sha256 = createHash('sha256').update(data).digest('hex');
  return { digest: `sha256:${sha256}`, sha256, size, file, compression: 'none' };
}

const chunkStart = (r: ProxyRequest) =>
  r.method === 'PATCH' ? Number(/^(\d+)-/.exec(String(r.headers['content-range']))?.[1]) : -1;
const isUploadStatus = (r: ProxyRequest) => r.method === 'GET' && r.path.includes('/blobs/uploads/');

async function savedOffsets(state: UploadState): Promise<number[]> {
  const files = await readdir(state.dir).catch(() => []);
  return Promise.all(
    files.map(
      async (f) => (JSON.parse(await readFile(path.join(state.dir, f), 'utf8')) as { offset: number }).offset,
    ),
  );
}

describe('blob uploads when the registry misbehaves', () => {
  it('takes a blob HEAD answered with a redirect (storage on S3, GCS, Azure) as present', async () => {
    const blob = await randomBlob(1000);
    const state = new UploadState(await tempDir());
    expect(await pushBlob(client(), 'faults/redirect', blob, { chunkSize: MiB, state })).toBe('uploaded');
    proxy.requests.length = 0;
    proxy.rewrite = (r, answer) => {
      if (r.method !== 'HEAD' || answer.status !== 200) return;
      answer.status = 307;
      answer.headers = { location: `http://${registry.host}${r.path}`, 'content-length': '0' };
    };
    expect(await pushBlob(client(), 'faults/redirect', blob, { chunkSize: MiB, state })).toBe('present');
    expect(proxy.requests.filter((r) => r.method === 'HEAD')).toHaveLength(1);
    // A moved-permanently (a proxy's http -> https) says nothing about the blob: no upload is skipped on it.
    proxy.rewrite = (r, answer) => {
      if (r.method !== 'HEAD') return;
      answer.status = 301;
      answer.headers = { location: `https://${registry.host}${r.path}`, 'content-length': '0' };
    };
    await expect(
      pushBlob(client(), 'faults/redirect', blob, { chunkSize: MiB, state }),
    ).rejects.toMatchObject({
      code: 'EREGISTRY',
      found: 301,
    });
    proxy.rewrite = undefined;
  });

  it('fails a request the registry stops answering with EREGISTRY, and the next run continues the upload', async () => {
    const blob = await randomBlob(3 * MiB);
    const state = new UploadState(await tempDir());
    proxy.hold = (r) => chunkStart(r) >= MiB;
    const stalled = pushBlob(client({ idleTimeout: 300 }), 'faults/stall', blob, { chunkSize: MiB, state });
    await expect(stalled).rejects.toMatchObject({
      code: 'EREGISTRY',
      message: expect.stringMatching(/PATCH .* nothing sent or received for 0.3 s/),
      hint: expect.stringMatching(/run the same command again/),
    });
    expect(await savedOffsets(state)).toEqual([MiB]);
    proxy.hold = undefined;
    expect(await pushBlob(client(), 'faults/stall', blob, { chunkSize: MiB, state })).toBe('resumed');
  });

  it('keeps the saved upload when the resume check fails, and drops it only when the registry does not know it', async () => {
    const blob = await randomBlob(3 * MiB);
    const state = new UploadState(await tempDir());
    proxy.answer = (r) =>
      chunkStart(r) >= MiB
        ? { status: 500, headers: {}, body: '{"errors":[{"code":"UNKNOWN"}]}' }
        : undefined;
    await expect(pushBlob(client(), 'faults/resume', blob, { chunkSize: MiB, state })).rejects.toMatchObject({
      code: 'EREGISTRY',
      expected: 202,
      found: 500,
    });
    expect(await savedOffsets(state)).toEqual([MiB]);

    // The status request fails (a 5xx, a lost link, Ctrl-C): the error is the run's, the state stays.
    proxy.answer = (r) => (isUploadStatus(r) ? { status: 503, headers: {} } : undefined);
    await expect(pushBlob(client(), 'faults/resume', blob, { chunkSize: MiB, state })).rejects.toMatchObject({
      code: 'EREGISTRY',
      found: 503,
    });
    expect(await savedOffsets(state)).toEqual([MiB]);
    proxy.answer = undefined;
    proxy.hold = isUploadStatus;
    const stop = new AbortController();
    const interrupted = pushBlob(client(), 'faults/resume', blob, {
      chunkSize: MiB,
      state,
      signal: stop.signal,
    });
    await vi.waitFor(() => expect(proxy.requests.some(isUploadStatus)).toBe(true));
    stop.abort(new Error('interrupted'));
    await expect(interrupted).rejects.toThrow('interrupted');
    expect(await savedOffsets(state)).toEqual([MiB]);

    proxy.hold = undefined;
    expect(await pushBlob(client(), 'faults/resume', blob, { chunkSize: MiB, state })).toBe('resumed');
    expect(await savedOffsets(state)).toEqual([]);

    // An upload the registry does not know (404): the state goes and the blob is sent from the start.
    const other = await randomBlob(2 * MiB);
    const unknown = `http://${proxy.host}/v2/faults/resume/blobs/uploads/0b6c2f4e-3b8e-4c61-9d2c-5a1f6d1e2a70?_state=x`;
    await state.save(`http://${proxy.host}`, 'faults/resume', other.digest, {
      location: unknown,
      offset: MiB,
    });
    expect(await pushBlob(client(), 'faults/resume', other, { chunkSize: MiB, state })).toBe('uploaded');
    expect(await savedOffsets(state)).toEqual([]);

    // A registry that does not serve upload status (405): the state goes too, or every later run would fail.
    const third = await randomBlob(2 * MiB);
    await state.save(`http://${proxy.host}`, 'faults/resume', third.digest, {
      location: unknown,
      offset: MiB,
    });
    proxy.answer = (r) => (isUploadStatus(r) ? { status: 405, headers: {} } : undefined);
    expect(await pushBlob(client(), 'faults/resume', third, { chunkSize: MiB, state })).toBe('uploaded');
    expect(await savedOffsets(state)).toEqual([]);
    proxy.answer = undefined;
  });

  it('sends the credentials to the registry only, not to an upload location on another host', async () => {
    const blob = await randomBlob(2 * MiB);
    const state = new UploadState(await tempDir());
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    const own = (r: ProxyRequest) => String(r.headers.host).startsWith('127.0.0.1:');
    // The registry wants a login; its storage front end (another origin: localhost) takes signed URLs.
    proxy.answer = (r) =>
      own(r) && r.headers.authorization !== basic
        ? { status: 401, headers: { 'www-authenticate': 'Basic realm="faults"' } }
        : undefined;
    proxy.rewrite = (_r, answer) => {
      const location = answer.headers.location;
      if (typeof location === 'string') answer.headers.location = location.replace('127.0.0.1', 'localhost');
    };
    const credentials = { username: 'alice', password: 's3cret' };
    expect(await pushBlob(client({ credentials }), 'faults/offhost', blob, { chunkSize: MiB, state })).toBe(
      'uploaded',
    );
    const elsewhere = proxy.requests.filter((r) => !own(r));
    expect(elsewhere.map((r) => r.method)).toEqual(['PATCH', 'PATCH', 'PUT']);
    expect(elsewhere.map((r) => r.headers.authorization)).toEqual([undefined, undefined, undefined]);
    expect(proxy.requests.filter(own).some((r) => r.headers.authorization === basic)).toBe(true);
  });

  it('stops the other uploads when one fails, and fails only once none runs any more', async () => {
    const [config, ...layers] = await Promise.all([1, 2, 3, 4].map(() => randomBlob(1000)));
    if (!config) return expect.fail('no blob');
    const image: ArchiveImage = { id: config.sha256, config, layers, tags: ['faults/siblings:1'] };
    const made = client();
    const pending = new Set<Promise<unknown>>();
    const request = made.request.bind(made);
    vi.spyOn(made, 'request').mockImplementation((r) => {
      const answer = request(r);
      pending.add(answer);
      answer.then(
        () => pending.delete(answer),
        () => pending.delete(answer),
      );
      return answer;
    });
    // Two blobs at a time: the first PATCH never gets an answer, the second gets a 500.
    let patches = 0;
    proxy.hold = (r) => r.method === 'PATCH' && ++patches === 1;
    proxy.answer = (r) => (r.method === 'PATCH' ? { status: 500, headers: {} } : undefined);
    const push = pushImages(made, [image], parseTarget(proxy.host, true), {
      chunkSize: MiB,
      concurrency: 2,
      state: new UploadState(await tempDir()),
    });
    await expect(push).rejects.toMatchObject({ code: 'EREGISTRY', found: 500 });
    expect(pending.size).toBe(0);
    const heads = proxy.requests.filter((r) => r.method === 'HEAD');
    expect(heads).toHaveLength(2);
  });
});
