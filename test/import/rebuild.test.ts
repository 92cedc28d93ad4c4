import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { buildContextStream } from '../../src/export/build-context.js';
import { runCli } from '../support/cli.js';
import { requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

// Every image this test's builds make carries the label (LABEL comes right after each FROM), so the test can
// remove all of them, the builder's intermediates included, to leave the engine as an air-gapped host sees it.
const DOCKERFILE = `ARG BASE
FROM \${BASE} AS deps
ARG NONCE
LABEL offline.test.rebuild=\${NONCE}
RUN head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /deps-random
FROM \${BASE}
ARG NONCE
LABEL offline.test.rebuild=\${NONCE}
COPY --from=deps /deps-random /deps-random
COPY src/ /src/
CMD ["sh", "-c", "sleep 3600"]
`;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' });
}

/** Removes every image labelled by this test (loaded, built or intermediate), children before parents. */
function removeLabelled(nonce: string): void {
  const list = () =>
    docker('images', '-a', '-q', '--no-trunc', '--filter', `label=offline.test.rebuild=${nonce}`)
      .split('\n')
      .filter(Boolean);
  for (let pass = 0; pass < 10; pass++) {
    const ids = [...new Set(list())];
    if (ids.length === 0) return;
    for (const id of ids) {
      try {
        execFileSync('docker', ['rmi', '-f', id], { stdio: 'ignore' });
      } catch {
        // a parent of an image not removed yet, or already gone with its child: the next pass gets it
      }
    }
  }
  throw new Error(`images labelled ${nonce} could not all be removed: ${list().join(' ')}`);
}

describe('offline rebuild: a changed service rebuilt on the air-gapped host from the bundle build cache', () => {
  let engine: DockerEngine;
  let baseImage: string;
  const nonce = uniqueName('rebuild').replace(/[^a-z0-9-]/g, '-');
  let manifest: BundleManifest;
  let stack: string;
  let target: string;
  let image: string;
  let originalRandom: string;

  async function randomIn(ref: string): Promise<string> {
    return (await engine.runContainer(ref, ['cat', '/deps-random'])).output;
  }

  beforeAll(async () => {
    ({ engine, baseImage } = await requireDocker());
    stack = await mkdtemp(path.join(tmpdir(), 'offline-rebuild-'));
    await mkdir(path.join(stack, 'app/src'), { recursive: true });
    await writeFile(path.join(stack, 'app/Dockerfile'), DOCKERFILE);
    await writeFile(path.join(stack, 'app/src/hello.txt'), 'version 1\n');
    await writeFile(
      path.join(stack, 'docker-compose.yml'),
      `services:\n  app:\n    build:\n      context: ./app\n      args:\n        BASE: ${baseImage}\n        NONCE: ${nonce}\n`,
    );
    const out = path.join(stack, 'out');
    const exported = await runCli([
      'export',
      '-f',
      path.join(stack, 'docker-compose.yml'),
      '--name',
      nonce,
      '--build-cache',
      '--out',
      out,
      '--json',
    ]);
    expect(exported.code, exported.stderr.slice(-2000)).toBe(0);
    const archive = (exported.json as { archive: string }).archive;
    image = `${nonce}_app:latest`;
    originalRandom = await randomIn(image);
    expect(originalRandom).toMatch(/^[0-9a-f]{32}$/);

    // The air-gapped host: none of the build's images, no intermediate; then the import loads the bundle.
    removeLabelled(nonce);
    expect(await engine.inspectImage(image)).toBeUndefined();
    target = path.join(stack, 'target');
    const imported = await runCli(['import', archive, '--target', target, '--json']);
    expect(imported.code, imported.stderr.slice(-2000)).toBe(0);
    manifest = JSON.parse(
      execFileSync('cat', [path.join(target, '.offline/manifest.json')], { encoding: 'utf8' }),
    ) as BundleManifest;
  }, 300_000);

  afterAll(async () => {
    removeLabelled(nonce);
    if (stack) await rm(stack, { recursive: true, force: true });
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

  it('rebuilds changed source with every unchanged step from the cache, and tags the service image', async () => {
    await writeFile(path.join(target, 'app/src/hello.txt'), 'version 2, changed on the air-gapped host\n');
    const before = (await engine.inspectImage(image))?.id;
    const result = await runCli(['rebuild', 'app', '--target', target, '--json']);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const rebuilt = (result.json as { result: { id: string; cached: number; steps: number } }).result;
    expect(rebuilt.id).not.toBe(before);
    expect((await engine.inspectImage(image))?.id).toBe(rebuilt.id);
    // The deps stage's RUN (random bytes) came from the cache: the same bytes as on the connected host.
    expect(await randomIn(image)).toBe(originalRandom);
    expect((await engine.runContainer(image, ['cat', '/src/hello.txt'])).output).toContain('version 2');
    expect(rebuilt.cached).toBeGreaterThanOrEqual(4);
    expect(rebuilt.cached).toBeLessThan(rebuilt.steps);
  });

  it('control: the same build without cachefrom runs the RUN step again (the loaded images alone are no cache)', async () => {
    const control = `offline-test/${nonce}-control:1`;
    await engine.buildImage(await buildContextStream(path.join(target, 'app'), 'Dockerfile'), {
      tags: [control],
      buildArgs: { BASE: baseImage, NONCE: nonce },
    });
    expect(await randomIn(control)).not.toBe(originalRandom);
    await engine.removeImage(control, { force: true });
  });

  it('fails clearly: unknown service, no import in the folder, a cache image missing', async () => {
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
    const stage = manifest.buildCaches[0]?.stages[0]?.tag as string;
    const id = (await engine.inspectImage(stage))?.id as string;
    // A second tag keeps the image while the stage's own tag is removed (only untagged, not deleted).
    await engine.tagImage(id, `offline-test/${nonce}-keep`, '1');
    await engine.removeImage(stage);
    try {
      const missing = await runCli(['rebuild', 'app', '--target', target, '--json']);
      expect(missing.code).toBe(3);
      expect((missing.json as { error: { code: string; file: string } }).error).toMatchObject({
        code: 'EMISSING',
        file: stage,
      });
    } finally {
      const colon = stage.lastIndexOf(':');
      await engine.tagImage(id, stage.slice(0, colon), stage.slice(colon + 1));
    }
    expect(await readdir(target)).toContain('app');
  });
});
