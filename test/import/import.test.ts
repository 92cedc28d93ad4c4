import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { removeComposeProject, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { recordEngineRequests } from '../support/engine-recorder.js';
import { tempDir } from '../support/temp-dir.js';

let engine: DockerEngine;
let web: string;
let base: string;
let project: string;
const fixtures: Fixture[] = [];

const compose = (image: string) => `version: "2.4"
services:
  web:
    image: ${image}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 30
`;

async function build(dockerfile: string, tag: string): Promise<void> {
  await engine.buildImage(Readable.from([makeTar({ Dockerfile: dockerfile })]), { tags: [tag] });
}

/** A one-file build context as a tar buffer. */
function makeTar(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const body = Buffer.from(content);
    const header = Buffer.alloc(512);
    new tar.Header({
      path: name,
      mode: 0o644,
      size: body.length,
      mtime: new Date(0),
      type: 'File',
      uid: 0,
      gid: 0,
    }).encode(header, 0);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  base = docker.baseImage;
  project = uniqueName('imp');
  web = `offline-test/${project}-web:1`;
  await build(
    `FROM ${docker.baseImage}\nRUN echo hello > /var/www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/var/www"]\n`,
    web,
  );
});

afterAll(async () => {
  removeComposeProject(project);
  await removeImages(engine, [web]);
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

async function webBundle(): Promise<Fixture> {
  const fixture = await makeBundle({
    name: project,
    engine,
    images: [web],
    files: { 'stack/docker-compose.yml': compose(web), 'stack/.env.example': 'SECRET_KEY=\nMODE=prod\n' },
    manifest: (m) => ({
      ...m,
      services: [{ name: 'web', image: web, built: true, healthcheck: true, profiles: [] }],
      env: { template: 'stack/.env.example', generate: { SECRET_KEY: { kind: 'hex', bytes: 32 } } },
    }),
  });
  fixtures.push(fixture);
  return fixture;
}

describe('offline import', () => {
  it('imports, starts healthy, and a second import skips everything', async () => {
    const fixture = await webBundle();
    await engine.removeImage(web, { force: true });
    const target = await tempDir();
    // Both imports talk to the engine through a recorder of the paths they ask for.
    const recorder = await recordEngineRequests();
    const env = { DOCKER_HOST: recorder.dockerHost };
    const first = await runCli(
      ['import', fixture.archive, '--target', target, '--start', '--timeout', '60', '--json'],
      { env },
    );
    expect(first.code, first.stderr).toBe(0);
    // It loads, so it asks for the engine's platform, API version and data root.
    const firstPaths = recorder.paths();
    expect(firstPaths).toEqual(expect.arrayContaining(['/version', '/info', '/images/load']));
    const report = (
      first.json as { report: { images: { loaded: string[] }; started: { services: { health?: string }[] } } }
    ).report;
    expect(report.images.loaded).toHaveLength(1);
    expect(report.started.services.map((s) => s.health)).toEqual(['healthy']);
    const dotEnv = await readFile(path.join(target, '.env'), 'utf8');
    expect(dotEnv).toMatch(/^SECRET_KEY=[0-9a-f]{64}$/m);
    expect(await readFile(path.join(target, 'docker-compose.yml'), 'utf8')).toBe(compose(web));

    // The bundle's tag moved to another image in between: the image stays (untagged) and is not loaded again,
    // and the second import, from the images it found at its start, points the tag back at it.
    const webId = (await engine.inspectImage(web))?.id;
    const colon = web.lastIndexOf(':');
    await engine.tagImage(base, web.slice(0, colon), web.slice(colon + 1));
    expect((await engine.inspectImage(web))?.id).not.toBe(webId);
    const second = await runCli(['import', fixture.archive, '--target', target, '--json'], { env });
    expect(second.code, second.stderr).toBe(0);
    // It loads nothing: it lists the images and tags one, and asks for no /version nor /info, whose answers
    // make the engine run runc and docker-init.
    const secondPaths = recorder.paths().slice(firstPaths.length);
    await recorder.close();
    expect(secondPaths).toContain('/images/json');
    expect(secondPaths).not.toContain('/version');
    expect(secondPaths).not.toContain('/info');
    const again = (
      second.json as {
        report: {
          images: { loaded: string[]; skipped: string[] };
          notRead?: string;
          verified: { path: string }[];
          files: { action: string }[];
        };
      }
    ).report;
    expect(again.images).toEqual({ loaded: [], skipped: [webId] });
    // Every file was already in the target as the manifest has it and every image present: nothing past the
    // lists was needed, and the read stopped there.
    expect(again.files.map((f) => f.action)).toEqual(again.files.map(() => 'unchanged'));
    expect(again.verified.map((v) => v.path)).toEqual(['manifest.json']);
    expect(again.notRead).toBe('README.txt');
    expect((await engine.inspectImage(web))?.id).toBe(webId);
    expect(await readFile(path.join(target, '.env'), 'utf8')).toBe(dotEnv);

    // One file gone from the target: the read goes on until that file is placed again, and stops after it.
    await rm(path.join(target, 'docker-compose.yml'));
    const third = await runCli(['import', fixture.archive, '--target', target, '--json']);
    expect(third.code, third.stderr).toBe(0);
    const restored = (
      third.json as {
        report: { notRead?: string; verified: { path: string }[]; files: { path: string; action: string }[] };
      }
    ).report;
    expect(restored.files.find((f) => f.path === 'docker-compose.yml')?.action).toBe('create');
    expect(restored.verified.map((v) => v.path)).toContain('stack/docker-compose.yml');
    expect(restored.notRead).toBe('images/images.tar');
    expect(await readFile(path.join(target, 'docker-compose.yml'), 'utf8')).toBe(compose(web));

    // The summary a person reads says why so little was verified: the rest is unchanged in the target.
    const fourth = await runCli(['import', fixture.archive, '--target', target]);
    expect(fourth.code, fourth.stderr).toBe(0);
    expect(fourth.stdout).toContain(
      `verified 1 file(s), ${restored.files.length} file(s) unchanged in the target; images loaded 0, already present 1`,
    );
  });

  it('refuses to overwrite a file the user changed, unless --force (backed up)', async () => {
    const fixture = await webBundle();
    const target = await tempDir();
    expect((await runCli(['import', fixture.archive, '--target', target])).code).toBe(0);
    await writeFile(path.join(target, 'docker-compose.yml'), '# my edit\n');
    const refused = await runCli(['import', fixture.archive, '--target', target, '--json']);
    expect(refused.code).toBe(1);
    expect((refused.json as { error: { code: string } }).error.code).toBe('EEXIST');
    expect(await readFile(path.join(target, 'docker-compose.yml'), 'utf8')).toBe('# my edit\n');
    const forced = await runCli(['import', fixture.archive, '--target', target, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const names = await readdir(target);
    const backup = names.find((n) => n.startsWith('docker-compose.yml.bak-')) as string;
    expect(await readFile(path.join(target, backup), 'utf8')).toBe('# my edit\n');
  });

  it('exits 4 naming the address when the engine is unreachable, leaving the target as it was', async () => {
    const fixture = await webBundle();
    const target = await tempDir();
    const result = await runCli(['import', fixture.archive, '--target', target], {
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('EDOCKER_UNREACHABLE');
    expect(result.stderr).toContain('unix:///nonexistent/docker.sock');
    expect(await readdir(target)).toEqual([]);
  });
});
