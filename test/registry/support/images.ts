import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DockerEngine } from '../../../src/docker/engine.js';
import { buildContextStream } from '../../../src/export/build-context.js';
import { gatherOutput } from '../../support/child-output.js';

/** Builds an image from a Dockerfile text (classic builder, no context files). */
export async function buildImage(engine: DockerEngine, dockerfile: string, tag: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'offline-registry-build-'));
  try {
    await writeFile(path.join(dir, 'Dockerfile'), dockerfile);
    return await engine.buildImage(await buildContextStream(dir, 'Dockerfile'), { tags: [tag] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** JSON of the registry's manifest for repository:tag (schema 2), or its HTTP status when there is none. */
export async function fetchManifest(
  host: string,
  repository: string,
  tag: string,
  auth?: string,
): Promise<{ status: number; manifest?: { config: { digest: string }; layers: { mediaType: string }[] } }> {
  const response = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    headers: {
      accept: 'application/vnd.docker.distribution.manifest.v2+json',
      ...(auth && { authorization: `Basic ${Buffer.from(auth).toString('base64')}` }),
    },
  });
  if (response.status !== 200) return { status: response.status };
  return { status: 200, manifest: (await response.json()) as never };
}

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/**
 * Starts the CLI as a child process (like runCli) but hands back the child, so a test can kill it midway: Node
 * itself with tsx as a loader (the tsx command runs the CLI in a child of its own, which a SIGKILL of tsx would
 * leave running).
 */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, OFFLINE_SILENT: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = gatherOutput(child);
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) =>
    child.on('exit', (code, signal) => {
      // A killed child can leave a grandchild (tsx's esbuild service) holding stderr open: do not wait for it.
      const timer = setTimeout(() => resolve({ code, signal, ...output }), 2000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve({ code, signal, ...output });
      });
    }),
  );
  return { child, done };
}
