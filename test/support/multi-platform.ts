import { createHash } from 'node:crypto';

const MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

function digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function ok(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
  return response;
}

/**
 * Turns a single-platform image in a plain-HTTP registry into a multi-platform tag: `to` becomes a manifest
 * list of the image at `from` (its own platform) and a copy of it whose config says linux/`arch` (same layers; an
 * engine pulls and stores it, it never runs it). Returns the copy's image ID (its config digest).
 */
export async function addPlatformVariant(
  host: string,
  repository: string,
  from: string,
  to: string,
  arch: string,
): Promise<string> {
  const base = `http://${host}/v2/${repository}`;
  const manifestText = await (
    await ok(await fetch(`${base}/manifests/${from}`, { headers: { accept: MANIFEST } }), 'get manifest')
  ).text();
  const manifest = JSON.parse(manifestText) as { config: { digest: string; size: number } };
  const config = (await (
    await ok(await fetch(`${base}/blobs/${manifest.config.digest}`), 'get config')
  ).json()) as {
    architecture: string;
  };
  const variantConfig = Buffer.from(JSON.stringify({ ...config, architecture: arch }));
  const upload = await ok(await fetch(`${base}/blobs/uploads/`, { method: 'POST' }), 'start upload');
  const location = new URL(upload.headers.get('location') ?? '', `http://${host}`);
  location.searchParams.set('digest', digest(variantConfig));
  await ok(await fetch(location, { method: 'PUT', body: variantConfig }), 'upload config');
  const variant = Buffer.from(
    JSON.stringify({
      ...manifest,
      config: { ...manifest.config, size: variantConfig.length, digest: digest(variantConfig) },
    }),
  );
  const put = (reference: string, body: Buffer, type: string) =>
    fetch(`${base}/manifests/${reference}`, { method: 'PUT', body, headers: { 'content-type': type } });
  await ok(await put(digest(variant), variant, MANIFEST), 'put variant manifest');
  const list = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: LIST,
      manifests: [
        {
          mediaType: MANIFEST,
          size: Buffer.byteLength(manifestText),
          digest: digest(manifestText),
          platform: { os: 'linux', architecture: config.architecture },
        },
        {
          mediaType: MANIFEST,
          size: variant.length,
          digest: digest(variant),
          platform: { os: 'linux', architecture: arch },
        },
      ],
    }),
  );
  await ok(await put(to, list, LIST), 'put manifest list');
  return digest(variantConfig);
}
