import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { runCli } from './cli.js';
import { requireDocker, uniqueName } from './docker.js';

// Every image this stack's builds make carries the label (LABEL comes right after each FROM), so the test can
// remove all of them, the builder's intermediates included, to leave the engine as an air-gapped host sees it.
// The deps stage and the final stage each write random bytes: the same bytes after a rebuild prove the RUN came
// from the cache. The final stage's RUN comes before the COPY of the source, as an `apt-get install` would: on
// the air-gapped host it must come from the cache too (it could not run there).
// `ARG NONCE=<nonce>` makes even the first step after FROM the stack's own: with a bare `ARG NONCE`, stacks built
// at once by parallel test files share that step's image, and when two of them make it at the same moment the
// export's stage build can pick the other one (the builder's local cache takes the newest match), so that the
// bundle's stage image no longer is the service's stage.
const dockerfile = (nonce: string) => `ARG BASE
FROM \${BASE} AS deps
ARG NONCE=${nonce}
LABEL offline.test.rebuild=\${NONCE}
RUN echo \${NONCE} > /deps-nonce && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /deps-random
FROM \${BASE}
ARG NONCE=${nonce}
LABEL offline.test.rebuild=\${NONCE}
COPY --from=deps /deps-random /deps-random
RUN echo final-\${NONCE} > /final-nonce && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /final-random
COPY src/ /src/
CMD ["sh", "-c", "sleep 3600"]
`;

export interface ImportedRebuildStack {
  engine: DockerEngine;
  baseImage: string;
  /** The unique name: bundle name, compose project and the label on every image of the stack. */
  nonce: string;
  /** The imported target folder: app/ holds the service's build context. */
  target: string;
  /** The service image (`<nonce>_app:latest`), as the import loaded it. */
  image: string;
  /** The manifest copy the import kept under the target. */
  manifest: BundleManifest;
  /** The deps stage's random bytes as built on the connected host. */
  originalRandom: string;
  /** The deps stage's random bytes in an image. */
  randomIn(ref: string): Promise<string>;
  /** The final stage's random bytes as built on the connected host. */
  originalFinalRandom: string;
  /** The final stage's random bytes in an image. */
  finalRandomIn(ref: string): Promise<string>;
  /** Removes every image of the stack and its folders. */
  cleanup(): Promise<void>;
}

/** Removes every image labelled `nonce` (loaded, built or intermediate), children before parents. */
function removeLabelled(nonce: string): void {
  const list = () =>
    execFileSync(
      'docker',
      ['images', '-a', '-q', '--no-trunc', '--filter', `label=offline.test.rebuild=${nonce}`],
      { encoding: 'utf8' },
    )
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

export interface RebuildStackOptions {
  /**
   * The app's Dockerfile for a nonce (default: the one above). Its stages must write /deps-random and
   * /final-random as that one does, and label every image with offline.test.rebuild=<nonce>.
   */
  dockerfile?: (nonce: string) => string;
  /** The app's build context besides its Dockerfile, by path under it (default: src/hello.txt). */
  files?: Record<string, string>;
}

/**
 * The setup `offline rebuild` needs: a one-service stack with a multi-stage build, exported with
 * --build-cache on the connected host, every image of it then removed (an air-gapped host has none, nor any
 * builder intermediate), and the bundle imported into a target folder.
 */
export async function importedRebuildStack(options: RebuildStackOptions = {}): Promise<ImportedRebuildStack> {
  const { engine, baseImage } = await requireDocker();
  const nonce = uniqueName('rebuild');
  const stack = await mkdtemp(path.join(tmpdir(), 'offline-rebuild-'));
  const cleanup = async () => {
    removeLabelled(nonce);
    await rm(stack, { recursive: true, force: true });
  };
  const randomIn = async (ref: string) => (await engine.runContainer(ref, ['cat', '/deps-random'])).output;
  const finalRandomIn = async (ref: string) =>
    (await engine.runContainer(ref, ['cat', '/final-random'])).output;
  try {
    const files = options.files ?? { 'src/hello.txt': 'version 1\n' };
    for (const [name, text] of Object.entries({
      ...files,
      Dockerfile: (options.dockerfile ?? dockerfile)(nonce),
    })) {
      await mkdir(path.dirname(path.join(stack, 'app', name)), { recursive: true });
      await writeFile(path.join(stack, 'app', name), text);
    }
    await writeFile(
      path.join(stack, 'docker-compose.yml'),
      `services:\n  app:\n    build:\n      context: ./app\n      args:\n        BASE: ${baseImage}\n        NONCE: ${nonce}\n`,
    );
    const exported = await runCli([
      'export',
      '-f',
      path.join(stack, 'docker-compose.yml'),
      '--name',
      nonce,
      '--build-cache',
      '--out',
      path.join(stack, 'out'),
      '--json',
    ]);
    if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr.slice(-2000)}`);
    const archive = (exported.json as { archive: string }).archive;
    const image = `${nonce}_app:latest`;
    const originalRandom = await randomIn(image);
    const originalFinalRandom = await finalRandomIn(image);

    // The air-gapped host: none of the build's images, no intermediate; then the import loads the bundle.
    removeLabelled(nonce);
    if (await engine.inspectImage(image)) throw new Error(`${image} still present after removing it`);
    const target = path.join(stack, 'target');
    const imported = await runCli(['import', archive, '--target', target, '--json']);
    if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr.slice(-2000)}`);
    const manifest = JSON.parse(
      await readFile(path.join(target, '.offline/manifest.json'), 'utf8'),
    ) as BundleManifest;
    return {
      engine,
      baseImage,
      nonce,
      target,
      image,
      manifest,
      originalRandom,
      randomIn,
      originalFinalRandom,
      finalRandomIn,
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
