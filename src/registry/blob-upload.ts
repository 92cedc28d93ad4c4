import { createReadStream } from 'node:fs';
import { header, type RegistryClient } from './client.js';
import type { HttpResponse } from './http.js';
import type { SavedUpload, UploadState } from './upload-state.js';

export interface Blob {
  /** sha256:<hex> */
  digest: string;
  size: number;
  file: string;
}

export type BlobOutcome = 'present' | 'mounted' | 'uploaded' | 'resumed';

export interface BlobUploadOptions {
  chunkSize: number;
  state: UploadState;
  /** A repository of the same registry known to hold the blob: try a cross-repository mount first. */
  mountFrom?: string;
  signal?: AbortSignal;
}

/**
 * Puts one blob into a repository unless it is there: HEAD first, then a cross-repository mount when another
 * repository has it, else a chunked upload (PATCH with Content-Range, then PUT ?digest=). The upload's location
 * and offset are saved after every chunk, so a push that was killed continues where the registry says it
 * stands (GET on the upload); an upload the registry no longer knows is started again. A HEAD answered with any
 * 2xx or 3xx means the blob is there: a registry whose storage redirects (S3, GCS, Azure) answers 307.
 */
export async function pushBlob(
  client: RegistryClient,
  repository: string,
  blob: Blob,
  options: BlobUploadOptions,
): Promise<BlobOutcome> {
  const signal = options.signal;
  const blobPath = `/v2/${repository}/blobs/${blob.digest}`;
  const head = await client.request({ method: 'HEAD', url: blobPath, repositories: [repository], signal });
  if (isPresent(head)) return 'present';
  if (head.status !== 404) throw client.unexpected(`HEAD ${blobPath}`, head, '200 or 404');

  let upload: SavedUpload | undefined = await resume(client, repository, blob, options.state, signal);
  const resumed = upload !== undefined;
  if (!upload) {
    const from = options.mountFrom;
    const query = from ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}` : '';
    const url = `/v2/${repository}/blobs/uploads/${query}`;
    const started = await client.request({
      method: 'POST',
      url,
      repositories: from ? [repository, from] : [repository],
      headers: { 'content-length': '0' },
      signal,
    });
    if (started.status === 201 && from) return 'mounted';
    const location = header(started, 'location');
    if (started.status !== 202 || !location) throw client.unexpected(`POST ${url}`, started, 202);
    upload = { location: absolute(client, location), offset: 0 };
  }
  const save = (current: SavedUpload) => options.state.save(client.origin, repository, blob.digest, current);
  await save(upload);
  while (upload.offset < blob.size) {
    const start: number = upload.offset;
    const end: number = Math.min(start + options.chunkSize, blob.size) - 1;
    const patched = await client.request({
      method: 'PATCH',
      url: upload.location,
      repositories: [repository],
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${start}-${end}`,
        'content-length': String(end - start + 1),
      },
      body: () => createReadStream(blob.file, { start, end }),
      countBytes: true,
      signal,
    });
    const location = header(patched, 'location');
    if (patched.status !== 202 || !location)
      throw client.unexpected(`PATCH upload of ${blob.digest}`, patched, 202);
    upload = { location: absolute(client, location), offset: end + 1 };
    await save(upload);
  }
  const done = new URL(upload.location);
  done.searchParams.set('digest', blob.digest);
  const put = await client.request({
    method: 'PUT',
    url: done.toString(),
    repositories: [repository],
    headers: { 'content-length': '0' },
    signal,
  });
  if (put.status !== 201) throw client.unexpected(`PUT upload of ${blob.digest}`, put, 201);
  await options.state.remove(client.origin, repository, blob.digest);
  return resumed ? 'resumed' : 'uploaded';
}

/**
 * A saved upload the registry still knows, with the offset the registry reports (its Range header). The saved state
 * is dropped only when the registry says so (see forgotten: 404, 400, 405...) or holds no usable offset. Any other
 * failure (a lost link, Ctrl-C, a refused login, a 5xx) is thrown and the state kept for the next run.
 */
async function resume(
  client: RegistryClient,
  repository: string,
  blob: Blob,
  state: UploadState,
  signal: AbortSignal | undefined,
) {
  const saved = await state.load(client.origin, repository, blob.digest);
  if (!saved) return undefined;
  const status = await client.request({
    method: 'GET',
    url: saved.location,
    repositories: [repository],
    signal,
  });
  const forget = async () => {
    await state.remove(client.origin, repository, blob.digest);
    return undefined;
  };
  if (forgotten(client, saved.location, status.status)) return forget();
  if (status.status !== 204) throw client.unexpected(`GET upload status of ${blob.digest}`, status, 204);
  const range = /^(?:bytes=)?0-(\d+)$/.exec(header(status, 'range') ?? '');
  if (!range) return forget();
  const received = Number(range[1]) + 1;
  // An empty upload reports 0-0 too; distribution cannot tell 0 bytes from 1, so start over when unsure.
  if (received <= 1 || received > blob.size) return forget();
  return { location: absolute(client, header(status, 'location') ?? saved.location), offset: received };
}

/**
 * A blob HEAD that says the blob is there: 200, or the redirect to its storage that Distribution sends with S3,
 * GCS or Azure behind it (302, 303, 307 with a Location). A 301 (http to https) or a login page's redirect does not.
 */
function isPresent(head: HttpResponse): boolean {
  if (head.status === 200) return true;
  return [302, 303, 307].includes(head.status) && header(head, 'location') !== undefined;
}

/**
 * Whether the registry's answer to a resume check means the saved upload is no use any more: a 4xx (the upload
 * unknown, expired, or its status not served: 404, 400, 405, 416...) but for a login asked for and a request
 * timeout, which the next run may pass; and a login asked for by an upload host on another origin, which never
 * gets the credentials (see RegistryClient).
 */
function forgotten(client: RegistryClient, location: string, status: number): boolean {
  if (status < 400 || status >= 500) return false;
  if (status === 401) return new URL(location, client.origin).origin !== new URL(client.origin).origin;
  return status !== 408 && status !== 429;
}

function absolute(client: RegistryClient, location: string): string {
  return new URL(location, client.origin).toString();
}
