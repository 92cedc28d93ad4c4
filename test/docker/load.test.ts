import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { requireDocker } from '../support/docker.js';

/** The first bytes of a real `docker save` of the base image, then the stream fails as a damaged bundle does. */
async function failingArchive(prefixBytes: number): Promise<PassThrough> {
  const { engine, baseImage } = await requireDocker();
  const saved = await engine.saveImages([baseImage]);
  const out = new PassThrough();
  let sent = 0;
  saved.on('data', (chunk: Buffer) => {
    if (sent >= prefixBytes) return;
    out.write(chunk.subarray(0, prefixBytes - sent));
    sent += chunk.length;
    if (sent >= prefixBytes) {
      saved.destroy();
      setTimeout(() => out.destroy(new Error('damaged bundle: unexpected end of file')), 200);
    }
  });
  return out;
}

describe('loadImages with a source that fails part-way', () => {
  it('rejects with the source error instead of waiting for the rest of the body', async () => {
    const { engine } = await requireDocker();
    const archive = await failingArchive(64 * 1024);
    await expect(engine.loadImages(archive)).rejects.toThrow(/damaged bundle/);
  });

  it('rejects at once when the source already failed before the load began', async () => {
    const { engine } = await requireDocker();
    const archive = Readable.from([Buffer.alloc(1024)]);
    archive.on('error', () => {});
    archive.destroy(new Error('damaged bundle: already failed'));
    // Let its error and close events pass before the load starts, as when a small damaged bundle is read to
    // its end while the importer is still asking the engine which images it lacks.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(engine.loadImages(archive)).rejects.toThrow(/already failed/);
  });
});
