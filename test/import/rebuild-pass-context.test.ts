import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { runRebuild } from '../../src/import/rebuild.js';
import { filesIn } from '../support/context-files.js';
import { type ImportedRebuildStack, importedRebuildStack } from '../support/rebuild-stack.js';

// The deps stage reads requirements.txt and vendor/ (and records what it read); the final stage's COPY src/
// reads the rest, a model file among it, which the stage pass must not send.
const dockerfile = (nonce: string) => `ARG BASE
FROM \${BASE} AS deps
ARG NONCE=${nonce}
LABEL offline.test.rebuild=\${NONCE}
COPY requirements.txt /deps/
COPY vendor/ /deps/vendor/
RUN cat /deps/requirements.txt > /deps-seen && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /deps-random
FROM \${BASE}
ARG NONCE=${nonce}
LABEL offline.test.rebuild=\${NONCE}
COPY --from=deps /deps-random /deps-random
COPY --from=deps /deps-seen /deps-seen
RUN head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /final-random
COPY src/ /src/
CMD ["sh", "-c", "sleep 3600"]
`;

const files = {
  'requirements.txt': 'flask==3.0.0\n',
  'vendor/a.whl': 'wheel 1',
  'src/hello.txt': 'version 1\n',
  'src/model.bin': 'm'.repeat(1024 * 1024),
};

/** The engine, recording the files of each build context it is sent. */
function recording(engine: DockerEngine): { engine: DockerEngine; sent: string[][] } {
  const sent: string[][] = [];
  const wrapped = Object.create(engine) as DockerEngine;
  wrapped.buildImage = async (context, options, onEvent) => {
    const toEngine = new PassThrough();
    const toList = new PassThrough();
    context.pipe(toEngine);
    context.pipe(toList);
    const [names, id] = await Promise.all([filesIn(toList), engine.buildImage(toEngine, options, onEvent)]);
    sent.push(names);
    return id;
  };
  return { engine: wrapped, sent };
}

describe('offline rebuild: a stage pass sends only what its stages read of the context', () => {
  let stack: ImportedRebuildStack;
  const rebuild = async () => {
    const { engine, sent } = recording(stack.engine);
    const result = await runRebuild(engine, { service: 'app', target: stack.target });
    return { result, sent };
  };
  const seenIn = async (ref: string) => (await stack.engine.runContainer(ref, ['cat', '/deps-seen'])).output;

  beforeAll(async () => {
    stack = await importedRebuildStack({ dockerfile, files });
  }, 300_000);

  afterAll(async () => {
    await stack?.cleanup();
  });

  it('unchanged: the pass sends the Dockerfile, requirements.txt and vendor/, and every step comes from the cache', async () => {
    const { result, sent } = await rebuild();
    expect(result.stagePasses).toEqual([
      {
        target: 'deps',
        steps: 7,
        cacheable: 5,
        cached: 5,
        context: {
          sources: ['requirements.txt', 'vendor'],
          files: 3,
          bytes: dockerfile(stack.nonce).length + 'flask==3.0.0\n'.length + 'wheel 1'.length,
        },
      },
    ]);
    expect(sent[0]).toEqual(['Dockerfile', 'requirements.txt', 'vendor/a.whl']);
    // The service's build gets the whole context.
    expect(sent[1]).toEqual([
      'Dockerfile',
      'requirements.txt',
      'src/hello.txt',
      'src/model.bin',
      'vendor/a.whl',
    ]);
    expect(result.cached).toBe(result.cacheable);
    expect(result.id).toBe(result.previousId);
    expect(await stack.randomIn(stack.image)).toBe(stack.originalRandom);
  });

  it('a changed file only the last stage reads: the pass still takes every step from the cache', async () => {
    await writeFile(path.join(stack.target, 'app/src/model.bin'), 'n'.repeat(1024 * 1024));
    const { result } = await rebuild();
    expect(result.stagePasses[0]).toMatchObject({ cacheable: 5, cached: 5 });
    // Only COPY src/ and the CMD after it ran.
    expect(result.cacheable - result.cached).toBe(2);
    expect(await stack.randomIn(stack.image)).toBe(stack.originalRandom);
    expect(await stack.finalRandomIn(stack.image)).toBe(stack.originalFinalRandom);
  });

  it('a changed file the earlier stage reads: the pass sends the new bytes and runs its steps from there', async () => {
    await writeFile(path.join(stack.target, 'app/requirements.txt'), 'flask==3.1.0\n');
    const { result } = await rebuild();
    // COPY requirements.txt and the RUN after it ran (COPY vendor/ came after the change: it ran too).
    expect(result.stagePasses[0]).toMatchObject({ cacheable: 5, cached: 2 });
    expect(await seenIn(stack.image)).toBe('flask==3.1.0\n');
    expect(await stack.randomIn(stack.image)).not.toBe(stack.originalRandom);
  });
});
