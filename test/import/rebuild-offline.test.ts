import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interfacesWithoutNetwork, runCliWithoutNetwork } from '../support/no-network.js';
import { type ImportedRebuildStack, importedRebuildStack } from '../support/rebuild-stack.js';

// Issue 5: "`offline rebuild <service> --context DIR` on the air-gapped host rebuilds a service from changed
// source using the bundle's build cache, with no network". The rebuild runs in a network namespace with no
// interface but loopback (down), as the import's no-network test does; it reaches the engine by its unix socket.

describe('offline rebuild with no network at all', () => {
  let stack: ImportedRebuildStack;

  beforeAll(async () => {
    stack = await importedRebuildStack();
  }, 300_000);

  afterAll(async () => {
    await stack?.cleanup();
  });

  it('the namespace the rebuild runs in has no interface but loopback', async () => {
    expect(await interfacesWithoutNetwork()).toEqual(['lo']);
  });

  it('rebuilds changed source from the build cache inside `unshare -n`, and tags the service image', async () => {
    const { engine, image, target } = stack;
    const context = path.join(target, 'app');
    await writeFile(path.join(context, 'src/hello.txt'), 'version 2, changed with no network\n');
    const before = (await engine.inspectImage(image))?.id;
    expect(before).toBeDefined();

    const result = await runCliWithoutNetwork([
      'rebuild',
      'app',
      '--target',
      target,
      '--context',
      context,
      '--json',
    ]);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const rebuilt = (
      result.json as { result: { id: string; cached: number; steps: number; cacheFrom: string[] } }
    ).result;
    expect(rebuilt.cacheFrom).toEqual(
      expect.arrayContaining(stack.manifest.buildCaches[0]?.stages.map((s) => s.tag) ?? []),
    );
    expect(rebuilt.id).not.toBe(before);
    expect((await engine.inspectImage(image))?.id).toBe(rebuilt.id);
    // The deps stage's RUN (random bytes) came from the bundle's cache: the bytes built on the connected host.
    expect(await stack.randomIn(image)).toBe(stack.originalRandom);
    expect((await engine.runContainer(image, ['cat', '/src/hello.txt'])).output).toBe(
      'version 2, changed with no network\n',
    );
    expect(rebuilt.cached).toBeGreaterThan(0);
    expect(rebuilt.cached).toBeLessThan(rebuilt.steps);
  });
});
