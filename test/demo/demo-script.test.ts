import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { freePort, startRegistry, type TestRegistry } from '../registry/support/registry-server.js';
import { DEMO_IMAGES_LOCK, removeDemoImages } from '../support/demo-images.js';
import { removeComposeProject, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { lockAcrossProcesses } from '../support/process-lock.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

// `make demo` is scripts/demo.sh on a private engine; here it runs on the test engine, with the CLI from
// source. Its base comes from a registry (a local one, as a site's would be): the path a connected host takes.
describe('scripts/demo.sh (make demo)', () => {
  let engine: DockerEngine;
  let registry: TestRegistry;
  let unlock: () => Promise<void>;
  let work: string;
  let base: string;

  beforeAll(async () => {
    const docker = await requireDocker();
    engine = docker.engine;
    // The demo builds and removes the offline-demo/* images, as the Swarm demo test does.
    unlock = await lockAcrossProcesses(DEMO_IMAGES_LOCK, 'the other demo test', 400_000);
    work = await mkdtemp(path.join(tmpdir(), 'offline-make-demo-'));
    registry = await startRegistry();
    base = `${registry.host}/site/busybox:${uniqueName('demo')}`;
    await run('docker', ['tag', docker.baseImage, base]);
    await run('docker', ['push', base]);
    // Gone from the engine: the demo must pull it.
    await removeImages(engine, [base]);
  }, 420_000);

  afterAll(async () => {
    removeComposeProject('demo');
    if (engine) {
      await removeDemoImages(engine, 'demo');
      await removeImages(engine, [base]);
    }
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    await unlock?.();
  });

  it('exports, imports with the network off, starts the stack healthy, and it answers', async () => {
    const port = await freePort();
    const { stdout, stderr } = await run('bash', ['scripts/demo.sh'], {
      cwd: root,
      env: {
        ...process.env,
        BASE_IMAGE: base,
        DEMO_OUT: work,
        DEMO_PORT: String(port),
        OFFLINE_CLI: `${path.join(root, 'node_modules/.bin/tsx')} ${path.join(root, 'src/cli/main.ts')}`,
      },
      maxBuffer: 32 * 1024 * 1024,
    });
    expect(stderr).toContain(`base image ${base}, from its registry`);
    expect(stderr).toContain('import on the air-gapped side');
    // Every GET printed an answer from the stack (curl -f fails the script on any HTTP error).
    for (const route of ['/', '/cgi-bin/api', '/cgi-bin/tokenizer']) {
      expect(stdout).toMatch(new RegExp(`GET http://127\\.0\\.0\\.1:${port}${route} -> \\S`));
    }
    const report = JSON.parse(await readFile(path.join(work, 'target/import-report.json'), 'utf8')) as {
      images: { loaded: string[] };
      started: { services: { name: string; state: string; health?: string }[] };
    };
    expect(report.images.loaded.length).toBeGreaterThan(0);
    expect(report.started.services.every((s) => s.state === 'running')).toBe(true);
    expect(report.started.services.some((s) => s.health === 'healthy')).toBe(true);
  }, 420_000);
});
