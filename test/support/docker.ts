import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { inject } from 'vitest';
import { connectDocker } from '../../src/docker/connect.js';
import type { DockerEngine } from '../../src/docker/engine.js';

/**
 * The real engine for tests that need one. There is no skip: without an engine such a test fails, on CI
 * (CI=true) and everywhere else, with the reason. `make test` provides an engine (scripts/with-docker.sh).
 */
export async function requireDocker(): Promise<{ engine: DockerEngine; baseImage: string }> {
  const baseImage = inject('baseImage');
  if (!baseImage) {
    throw new Error(`these tests need a Docker engine: ${inject('dockerProblem')} (run them with make test)`);
  }
  return { engine: await connectDocker(), baseImage };
}

/** A name no other test (or concurrent run) uses: tests share one daemon. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Removes the given images, ignoring ones already gone; for afterAll/afterEach cleanup that always runs. */
export async function removeImages(engine: DockerEngine, refs: Iterable<string>): Promise<void> {
  for (const ref of refs) await engine.removeImage(ref, { force: true }).catch(() => {});
}

/**
 * Removes what a compose project started on the test engine: its containers and its networks. Networks left
 * behind use up the engine's address pools (about 30 networks), after which every `up` fails.
 */
export function removeComposeProject(project: string): void {
  const label = `label=com.docker.compose.project=${project}`;
  execFileSync('bash', [
    '-c',
    `docker ps -aq --filter ${label} | xargs -r docker rm -f >/dev/null;
     docker network ls -q --filter ${label} | xargs -r docker network rm >/dev/null`,
  ]);
}

/** A build context holding just a Dockerfile, as a tar stream. */
export function dockerfileContext(dockerfile: string): Readable {
  const body = Buffer.from(dockerfile);
  const header = Buffer.alloc(512);
  new tar.Header({
    path: 'Dockerfile',
    mode: 0o644,
    size: body.length,
    mtime: new Date(0),
    type: 'File',
  }).encode(header, 0);
  return Readable.from([
    Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512), Buffer.alloc(1024)]),
  ]);
}
