import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { ExitCode } from '../../src/errors.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { type CliResult, runCli } from '../support/cli.js';
import {
  dockerfileContext,
  removeComposeProject,
  removeImages,
  requireDocker,
  uniqueName,
} from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

// Issue 5, step 6: with --start, wait until every service with a health check is healthy, up to --timeout;
// on failure print each unhealthy service's last log lines. The README's error table: ESTART, exit 1, "the
// images and files stay in place" (the import placed them before it started the stack).

let engine: DockerEngine;
let web: string;
let webId: string;
let marker: string;
const projects: string[] = [];
const fixtures: Fixture[] = [];

/** The container prints line-10 ... line-39, then the marker, then sleeps. */
const SCRIPT = 'i=10; while [ $i -lt 40 ]; do echo line-$i; i=$((i+1)); done; echo $0; exec sleep 3600';

/** A health check that fails at once (`interval: 1s`), or one whose first probe is an hour away. */
const compose = (healthcheck: 'failing' | 'never-answered') => `version: "2.4"
services:
  web:
    image: ${web}
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "false"]
      interval: ${healthcheck === 'failing' ? '1s' : '1h'}
      retries: 1
`;

/** A bundle of `web` with this compose file; its services as the manifest records them (web by default). */
async function bundle(
  composeText: string,
  services = [{ name: 'web', image: web, built: true, healthcheck: true, profiles: [] as string[] }],
): Promise<Fixture> {
  const name = uniqueName('startfail');
  projects.push(name);
  const fixture = await makeBundle({
    name,
    engine,
    images: [web],
    files: { 'stack/docker-compose.yml': composeText },
    manifest: (m) => ({ ...m, services }),
  });
  fixtures.push(fixture);
  return fixture;
}

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('startfail');
  web = `offline-test/${name}-web:1`;
  marker = `${name}: config check failed, refusing requests`;
  webId = await engine.buildImage(
    dockerfileContext(
      `FROM ${docker.baseImage}\nRUN echo ${name} > /name\nCMD ["sh", "-c", "${SCRIPT}", "${marker}"]\n`,
    ),
    { tags: [web] },
  );
});

afterAll(async () => {
  for (const project of projects) removeComposeProject(project);
  await removeImages(engine, [web]);
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

interface StartError {
  code: string;
  message: string;
  file: string;
  problems: { code: string; file: string; expected: string; found: string; message: string }[];
}

/**
 * Imports `fixture` with --start into a fresh target (the image not in the engine), runs `beforeDown` on the
 * running stack, then takes the stack down.
 */
async function importAndStart(
  fixture: Fixture,
  timeout: string,
  beforeDown: (target: string) => Promise<void> = async () => {},
) {
  await engine.removeImage(web, { force: true }).catch(() => {});
  expect(await engine.inspectImage(web)).toBeUndefined();
  const target = await tempDir();
  const project = fixture.manifest.project;
  const result = await runCli([
    'import',
    fixture.archive,
    '--target',
    target,
    '--start',
    '--timeout',
    timeout,
    '--json',
  ]);
  // What the failed start left: read before the stack is taken down.
  const containers = await engine.listContainers(`com.docker.compose.project=${project}`);
  const image = await engine.inspectImage(web);
  const files = {
    compose: await readFile(path.join(target, 'docker-compose.yml'), 'utf8').catch(() => undefined),
    manifestCopy: await stat(path.join(target, '.offline/manifest.json')).then(
      (s) => s.isFile(),
      () => false,
    ),
    report: await readFile(path.join(target, 'import-report.json'), 'utf8').then(
      (text) => JSON.parse(text) as { images: { loaded: string[] }; started?: unknown },
      () => undefined,
    ),
  };
  try {
    await beforeDown(target);
    execFileSync('docker-compose', ['-p', project, 'down', '--timeout', '1'], { cwd: target, stdio: 'pipe' });
  } finally {
    removeComposeProject(project);
  }
  const error = (result.json as { error?: StartError } | undefined)?.error;
  return { result, error, project, containers, image, files };
}

describe('offline import --start when a service never becomes healthy', () => {
  it('fails its health check: ESTART, exit 1, its last log lines on stderr; images and files stay', async () => {
    const fixture = await bundle(compose('failing'));
    const { result, error, project, containers, image, files } = await importAndStart(fixture, '120');

    expect(result.code, result.stderr).toBe(ExitCode.failure);
    expect(error).toMatchObject({ code: 'ESTART', file: project });
    expect(error?.problems).toEqual([
      expect.objectContaining({ code: 'ESTART', expected: 'healthy', found: 'unhealthy' }),
    ]);
    expect(result.stderr).toMatch(/^error: ESTART: web: unhealthy; last log lines:$/m);
    // The last lines, not the first: the marker and the line before it, not the first line printed.
    expect(result.stderr).toContain(`line-39\n${marker}`);
    expect(result.stderr).not.toContain('line-10');

    // Documented: a failed start undoes nothing (no undo tried, no warning about one). The loaded image, the
    // files and the report stay, and the container stays where compose left it.
    expect(result.stderr).not.toMatch(/undo/);
    expect(image?.id).toBe(webId);
    expect(files.compose).toBe(compose('failing'));
    expect(files.manifestCopy).toBe(true);
    expect(files.report?.images.loaded).toEqual([webId]);
    expect(files.report?.started).toBeUndefined();
    expect(containers.map((c) => [c.labels['com.docker.compose.service'], c.health])).toEqual([
      ['web', 'unhealthy'],
    ]);
  });

  it('still starting when a small --timeout runs out: ESTART after the timeout, with its last log lines', async () => {
    const fixture = await bundle(compose('never-answered'));
    const { result, error, project, image, files } = await importAndStart(fixture, '2');

    expect(result.code, result.stderr).toBe(ExitCode.failure);
    expect(error).toMatchObject({
      code: 'ESTART',
      file: project,
      message: `stack ${project}: 1 service(s) not ready after 2 s`,
    });
    expect(error?.problems).toEqual([
      expect.objectContaining({ code: 'ESTART', expected: 'healthy', found: 'starting' }),
    ]);
    expect(result.stderr).toMatch(/^error: ESTART: web: starting; last log lines:$/m);
    expect(result.stderr).toContain(`line-39\n${marker}`);

    expect(result.stderr).not.toMatch(/undo/);
    expect(image?.id).toBe(webId);
    expect(files.compose).toBe(compose('never-answered'));
    expect(files.report?.images.loaded).toEqual([webId]);
  });
});

/** Services with no health check: a one-shot job, a long-running app, and (when asked) one in a crash loop. */
const noHealthchecks = (crashLoop: boolean) => `version: "2.4"
services:
  job:
    image: ${web}
    command: ["sh", "-c", "echo migrated"]
  app:
    image: ${web}
    stop_grace_period: 1s
    command: ["sh", "-c", "exec sleep 3600"]
${crashLoop ? `  crash:\n    image: ${web}\n    restart: always\n    command: ["sh", "-c", "echo crashing; sleep 1; exit 3"]\n` : ''}`;

const unchecked = (...names: string[]) =>
  names.map((name) => ({ name, image: web, built: true, healthcheck: false, profiles: [] as string[] }));

describe('offline import --start with services that have no health check', () => {
  it('a one-shot job that exited 0 is done, a running service is started; a compose run container is not waited for', async () => {
    const fixture = await bundle(noHealthchecks(false), unchecked('job', 'app'));
    let again: CliResult | undefined;
    const { result } = await importAndStart(fixture, '60', async (target) => {
      // A one-off container of the project (`compose run`) that exited 1, then the same import with --start.
      const project = fixture.manifest.project;
      spawnSync('docker-compose', ['-p', project, 'run', 'job', 'sh', '-c', 'exit 1'], { cwd: target });
      again = await runCli(['import', fixture.archive, '--target', target, '--start', '--json']);
    });
    for (const run of [result, again as CliResult]) {
      expect(run.code, run.stderr).toBe(0);
      const { services } = (run.json as { report: { started: { services: { state: string }[] } } }).report
        .started;
      expect(services.map((service) => service.state).sort()).toEqual(['exited', 'running']);
    }
  });

  it('a service in a crash loop (restart: always) never counts as started: ESTART with its log lines', async () => {
    const fixture = await bundle(noHealthchecks(true), unchecked('job', 'app', 'crash'));
    const { result, error } = await importAndStart(fixture, '8');
    expect(result.code, result.stderr).toBe(ExitCode.failure);
    expect(error?.problems).toEqual([
      expect.objectContaining({ code: 'ESTART', expected: 'running for 3 s, or exited 0' }),
    ]);
    expect(error?.problems[0]?.message).toMatch(
      /^crash: (running|restarting|exited with code 3); last log lines:\ncrashing/,
    );
  });
});
