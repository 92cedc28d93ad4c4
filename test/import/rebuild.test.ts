import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { buildContextStream } from '../../src/export/build-context.js';
import { runCli } from '../support/cli.js';
import { type ImportedRebuildStack, importedRebuildStack } from '../support/rebuild-stack.js';
import { tempDir } from '../support/temp-dir.js';

interface Rebuilt {
  id: string;
  previousId?: string;
  steps: number;
  cacheable: number;
  cached: number;
  stagePasses: { target: string; steps: number; cacheable: number; cached: number; context: object }[];
}

describe('offline rebuild: a changed service rebuilt on the air-gapped host from the bundle build cache', () => {
  let stack: ImportedRebuildStack;
  let engine: DockerEngine;
  let baseImage: string;
  let nonce: string;
  let manifest: BundleManifest;
  let target: string;
  let image: string;
  let originalRandom: string;
  const randomIn = (ref: string) => stack.randomIn(ref);

  beforeAll(async () => {
    stack = await importedRebuildStack();
    ({ engine, baseImage, nonce, manifest, target, image, originalRandom } = stack);
    expect(originalRandom).toMatch(/^[0-9a-f]{32}$/);
  }, 300_000);

  afterAll(async () => {
    await stack?.cleanup();
  });

  it('import keeps the manifest with the service build cache (stages, bases, build args)', () => {
    const cache = manifest.buildCaches.find((c) => c.service === 'app');
    expect(cache).toMatchObject({
      context: 'stack/app',
      dockerfile: 'Dockerfile',
      args: { BASE: baseImage, NONCE: nonce },
      bases: [expect.stringContaining('offline-base/busybox')],
    });
    expect(cache?.stages.map((s) => s.target)).toEqual(['deps']);
  });

  // The Dockerfile's 12 steps: ARG BASE and the two FROMs never come from a cache; the other 9 can.
  const rebuildJson = async () => {
    const result = await runCli(['rebuild', 'app', '--target', target, '--json']);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    return (result.json as { result: Rebuilt }).result;
  };

  it('an unchanged rebuild takes every step from the cache, the final stage RUN too: the imported image again', async () => {
    const before = (await engine.inspectImage(image))?.id;
    const rebuilt = await rebuildJson();
    expect(rebuilt).toMatchObject({ steps: 12, cacheable: 9, cached: 9, previousId: before, id: before });
    // The deps stage, built on its own first: its steps from the bundle's stage image. It copies nothing from
    // the context, so only the Dockerfile went with it.
    expect(rebuilt.stagePasses).toEqual([
      {
        target: 'deps',
        steps: 5,
        cacheable: 3,
        cached: 3,
        context: { sources: [], files: 1, bytes: (await stat(path.join(target, 'app/Dockerfile'))).size },
      },
    ]);
    expect(await randomIn(image)).toBe(originalRandom);
    expect(await stack.finalRandomIn(image)).toBe(stack.originalFinalRandom);
  });

  it('rebuilds changed source: every step before COPY src/ from the cache, COPY --from and the final RUN too', async () => {
    await writeFile(path.join(target, 'app/src/hello.txt'), 'version 2, changed on the air-gapped host\n');
    const before = (await engine.inspectImage(image))?.id;
    const rebuilt = await rebuildJson();
    expect(rebuilt.id).not.toBe(before);
    expect((await engine.inspectImage(image))?.id).toBe(rebuilt.id);
    // Only COPY src/ and the CMD after it ran.
    expect(rebuilt).toMatchObject({ steps: 12, cacheable: 9, cached: 7 });
    // The RUNs of both stages came from the cache: the same bytes as on the connected host.
    expect(await randomIn(image)).toBe(originalRandom);
    expect(await stack.finalRandomIn(image)).toBe(stack.originalFinalRandom);
    expect((await engine.runContainer(image, ['cat', '/src/hello.txt'])).output).toContain('version 2');

    // The same source again: every step from the cache, the image of the rebuild before. Its summary counts
    // the steps a cache can answer.
    const again = await runCli(['rebuild', 'app', '--target', target]);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(again.stdout).toContain(
      `(${rebuilt.id.slice(7, 19)})\n  9 of 9 cacheable steps from the build cache (12 steps in all)\n`,
    );
    expect(again.stdout).toMatch(
      /\n {2}stage deps built first: 3 of 3 cacheable steps from the cache; sent 1 file\(s\), 0\.\d KiB, of the build context \(its stages copy nothing from it\)\n/,
    );
  });

  it('control: the same build without cachefrom runs the RUN steps again (the loaded images alone are no cache)', async () => {
    const control = `offline-test/${nonce}-control:1`;
    await engine.buildImage(await buildContextStream(path.join(target, 'app'), 'Dockerfile'), {
      tags: [control],
      buildArgs: { BASE: baseImage, NONCE: nonce },
    });
    expect(await randomIn(control)).not.toBe(originalRandom);
    expect(await stack.finalRandomIn(control)).not.toBe(stack.originalFinalRandom);
    await engine.removeImage(control, { force: true });
  });

  it('fails clearly: unknown service, no import in the folder', async () => {
    const unknown = await runCli(['rebuild', 'nope', '--target', target, '--json']);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect((unknown.json as { error: { code: string } }).error.code).toBe('EUSAGE');
    const empty = await tempDir();
    const none = await runCli(['rebuild', 'app', '--target', empty, '--json']);
    expect(none.code).toBe(2);
    expect((none.json as { error: { code: string; file: string } }).error).toMatchObject({
      code: 'EUSAGE',
      file: path.join(empty, '.offline/manifest.json'),
    });
    expect(await readdir(target)).toContain('app');
  });

  it('a stage image gone from the engine (docker image prune -a) is left out of cachefrom with a warning', async () => {
    const stage = manifest.buildCaches[0]?.stages[0]?.tag as string;
    const id = (await engine.inspectImage(stage))?.id as string;
    // A second tag keeps the image while the stage's own tag is removed (only untagged, not deleted).
    await engine.tagImage(id, `offline-test/${nonce}-keep`, '1');
    await engine.removeImage(stage);
    try {
      const rebuilt = await runCli(['rebuild', 'app', '--target', target, '--json']);
      expect(rebuilt.code, rebuilt.stderr.slice(-2000)).toBe(0);
      expect(rebuilt.stderr).toContain(
        `warning: ${stage}: build cache image of stage "deps" not in the engine`,
      );
      expect(rebuilt.stderr).toContain('re-run `offline import` of this bundle');
      const cacheFrom = (rebuilt.json as { result: { cacheFrom: string[] } }).result.cacheFrom;
      expect(cacheFrom).not.toContain(stage);
      expect(cacheFrom).toEqual(expect.arrayContaining(manifest.buildCaches[0]?.bases ?? []));
    } finally {
      const colon = stage.lastIndexOf(':');
      await engine.tagImage(id, stage.slice(0, colon), stage.slice(colon + 1));
    }
  });
});
