import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import type { SavedUpload } from '../../src/registry/upload-state.js';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { removeComposeProject, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';
import { type CountingProxy, startCountingProxy } from './support/counting-proxy.js';
import { buildImage, fetchManifest, spawnCli } from './support/images.js';
import { freePort, ping, startRegistry, type TestRegistry } from './support/registry-server.js';

const MiB = 1024 * 1024;
let engine: DockerEngine;
let registry: TestRegistry;
let authRegistry: TestRegistry;
let fixture: Fixture;
let name: string;
let app: string;
let worker: string;
const pulled: string[] = [];
const proxies: CountingProxy[] = [];

const composeYaml = () => `version: "3.8"
services:
  app:
    image: ${app}
    command: ["sleep", "3600"]
  worker:
    image: ${worker}
    command: ["sh", "-c", "cat /worker.txt && sleep 3600"]
`;

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  name = uniqueName('offline-push');
  app = `${name}-app:1.0`;
  worker = `${name}-worker:1.0`;
  // 6 MB of random bytes: a layer of several upload chunks at --chunk-size 1M.
  await buildImage(engine, `FROM ${docker.baseImage}\nRUN head -c 6000000 /dev/urandom > /data.bin\n`, app);
  await buildImage(engine, `FROM ${app}\nRUN echo worker > /worker.txt\n`, worker);
  fixture = await makeBundle({
    name: 'pushdemo',
    engine,
    images: [app, worker],
    files: { 'stack/docker-compose.yml': composeYaml() },
    manifest: (m) => ({
      ...m,
      services: [
        { name: 'app', image: app, built: true, healthcheck: false, profiles: [] },
        { name: 'worker', image: worker, built: true, healthcheck: false, profiles: [] },
      ],
    }),
  });
  // The images now exist only in the bundle: a pull must fetch every layer from the registry.
  await removeImages(engine, [worker, app]);
  registry = await startRegistry();
  authRegistry = await startRegistry({ alice: 's3cret' });
});

afterAll(async () => {
  await removeImages(engine, [...pulled, worker, app]);
  for (const proxy of proxies) await proxy.close();
  await registry?.stop();
  await authRegistry?.stop();
  await fixture?.cleanup();
});

const idOf = (tag: string) => fixture.manifest.images.find((i) => i.tags.includes(tag))?.id;

async function pullAndCompare(host: string, prefix: string): Promise<void> {
  for (const tag of [app, worker]) {
    const ref = `${host}/${prefix}/${tag}`;
    pulled.push(ref);
    await engine.pullImage(ref);
    expect((await engine.inspectImage(ref))?.id).toBe(idOf(tag));
  }
}

describe('offline push', () => {
  it('pushes every image so that docker pulls the exported image IDs, and writes a compose override', async () => {
    const dir = await tempDir();
    const override = path.join(dir, 'docker-compose.registry.yml');
    const result = await runCli(
      [
        'push',
        fixture.archive,
        '--registry',
        `${registry.host}/${name}`,
        '--insecure',
        '--compose-override',
        override,
        '--json',
      ],
      { env: { OFFLINE_UPLOAD_STATE_DIR: path.join(dir, 'state') } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = result.json as { blobs: Record<string, number>; bytesSent: number; images: unknown[] };
    expect(json.images).toHaveLength(2);
    expect(json.blobs.uploaded).toBeGreaterThan(0);
    expect(json.bytesSent).toBeGreaterThan(6_000_000);

    const { manifest } = await fetchManifest(registry.host, `${name}/${app.split(':')[0]}`, '1.0');
    expect(manifest?.config.digest).toBe(idOf(app));
    expect(new Set(manifest?.layers.map((l) => l.mediaType))).toEqual(
      new Set(['application/vnd.docker.image.rootfs.diff.tar']),
    );
    await pullAndCompare(registry.host, name);

    // The override, merged by compose with the bundle's compose file, points each service at the registry.
    await writeFile(path.join(dir, 'docker-compose.yml'), composeYaml());
    const merged = execFileSync(
      'docker-compose',
      ['-f', 'docker-compose.yml', '-f', 'docker-compose.registry.yml', 'config'],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(merged).toContain(`image: ${registry.host}/${name}/${app}`);
    expect(merged).toContain(`image: ${registry.host}/${name}/${worker}`);
    expect(await readFile(override, 'utf8')).toMatch(/^version: "?3\.8"?$/m);
  });

  it('places the stack with --target so a host runs compose pull and up from the registry, keeping changed files', async () => {
    const dir = await tempDir();
    const target = path.join(dir, 'stack');
    const prefix = `${name}-hosts`;
    const push = (...extra: string[]) =>
      runCli(
        [
          'push',
          fixture.archive,
          '--registry',
          `${registry.host}/${prefix}`,
          '--insecure',
          '--target',
          target,
          ...extra,
        ],
        { env: { OFFLINE_UPLOAD_STATE_DIR: path.join(dir, 'state') } },
      );
    const first = await push('--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect((await readdir(target)).sort()).toEqual([
      '.offline',
      'docker-compose.registry.yml',
      'docker-compose.yml',
    ]);

    // On a host: the two files, then compose pulls every image from the registry and starts the stack.
    const refs = [app, worker].map((tag) => `${registry.host}/${prefix}/${tag}`);
    pulled.push(...refs);
    const project = uniqueName('hosts').replace(/[^a-z0-9]/g, '');
    const compose = (...args: string[]) =>
      execFileSync(
        'docker-compose',
        ['-p', project, '-f', 'docker-compose.yml', '-f', 'docker-compose.registry.yml', ...args],
        { cwd: target, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    try {
      compose('pull', '--quiet');
      compose('up', '-d', '--no-build');
      for (const [service, tag] of [
        ['app', app],
        ['worker', worker],
      ] as const) {
        const container = compose('ps', '-q', service).trim();
        const { Image } = JSON.parse(
          execFileSync('docker', ['inspect', '--format', '{{json .}}', container], { encoding: 'utf8' }),
        ) as { Image: string };
        expect(Image, service).toBe(idOf(tag));
      }
    } finally {
      compose('down', '--timeout', '1');
    }

    // A file changed there is never overwritten without --force, and then backed up first.
    const composeFile = path.join(target, 'docker-compose.yml');
    await writeFile(composeFile, `${composeYaml()}# changed on this host\n`);
    const refused = await push('--json');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/EEXIST/);
    expect(await readFile(composeFile, 'utf8')).toContain('# changed on this host');
    const forced = await push('--force', '--json');
    expect(forced.code).toBe(0);
    const backups = (forced.json as { backups: string[] }).backups;
    expect(backups).toHaveLength(1);
    expect(await readFile(backups[0] as string, 'utf8')).toContain('# changed on this host');
    expect(await readFile(composeFile, 'utf8')).toBe(composeYaml());
  });

  it('imports on a host from the registry: loads nothing, writes the override, pulls and starts the stack', async () => {
    const dir = await tempDir();
    const target = path.join(dir, 'host');
    const prefix = `${name}-fleet`;
    const where = `${registry.host}/${prefix}`;
    const push = await runCli(['push', fixture.archive, '--registry', where, '--insecure', '--json'], {
      env: { OFFLINE_UPLOAD_STATE_DIR: path.join(dir, 'state') },
    });
    expect(push.code).toBe(0);
    const refs = [app, worker].map((tag) => `${where}/${tag}`);
    pulled.push(...refs);

    const bad = await runCli(['import', fixture.archive, '--registry', 'http://x', '--target', target]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/EUSAGE.*--registry "http:\/\/x"/);
    await expect(readdir(target)).rejects.toThrow(/ENOENT/);

    const project = fixture.manifest.project;
    try {
      const run = await runCli([
        'import',
        fixture.archive,
        '--registry',
        where,
        '--target',
        target,
        '--start',
        '--timeout',
        '60',
        '--json',
      ]);
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.code).toBe(0);
      const { report } = run.json as {
        report: {
          images: { loaded: string[]; skipped: string[] };
          notRead: string;
          registry: { registry: string; composeOverride: string };
          started: { command: string; services: { name: string; state: string }[] };
        };
      };
      expect(report.images).toEqual({ loaded: [], skipped: [] });
      expect(report.notRead).toBe('images/images.tar');
      expect(report.registry).toEqual({
        registry: where,
        composeOverride: path.join(target, 'docker-compose.registry.yml'),
      });
      expect(await readFile(report.registry.composeOverride, 'utf8')).toContain(`image: ${where}/${app}`);
      expect(report.started.command).toMatch(/ pull && .* up -d --no-build/);
      expect(report.started.services.map((s) => s.state)).toEqual(['running', 'running']);
      // Nothing was loaded from the bundle: the bundle's own tags are not in the engine, the registry's are.
      for (const tag of [app, worker]) expect(await engine.inspectImage(tag)).toBeUndefined();
      for (const [i, tag] of [app, worker].entries()) {
        expect((await engine.inspectImage(refs[i] as string))?.id).toBe(idOf(tag));
      }
    } finally {
      removeComposeProject(project);
    }
  });

  it('sends no blob the second time: every blob is found by HEAD', async () => {
    const dir = await tempDir();
    const prefix = `${name}-again`;
    const first = await runCli(
      ['push', fixture.archive, '--registry', `${registry.host}/${prefix}`, '--insecure', '--json'],
      { env: { OFFLINE_UPLOAD_STATE_DIR: dir } },
    );
    expect(first.code, first.stderr).toBe(0);
    const proxy = await startCountingProxy(registry.host);
    proxies.push(proxy);
    const result = await runCli(
      ['push', fixture.archive, '--registry', `${proxy.host}/${prefix}`, '--insecure', '--json'],
      { env: { OFFLINE_UPLOAD_STATE_DIR: dir } },
    );
    expect(result.code).toBe(0);
    const json = result.json as { blobs: Record<string, number>; bytesSent: number };
    expect(json.bytesSent).toBe(0);
    expect(Number(json.blobs.uploaded) + Number(json.blobs.resumed) + Number(json.blobs.mounted)).toBe(0);
    expect(json.blobs.present).toBeGreaterThan(0);
    expect(proxy.uploadRequests()).toEqual([]);
    expect(proxy.uploadBytes).toBe(0);
    expect(proxy.requests.filter((r) => r.method === 'HEAD').length).toBe(json.blobs.present);
  });

  it('continues a push killed in the middle of a blob from where the registry stands', async () => {
    const state = await tempDir();
    const prefix = `${name}-resume`;
    const proxy = await startCountingProxy(registry.host);
    proxies.push(proxy);
    // Hold the first chunk past 3 MiB (of the 6 MB layer): the registry has 3 chunks, the client is killed.
    let held = false;
    proxy.hold = (r) => {
      const start = Number(/^(\d+)-/.exec(String(r.headers['content-range'] ?? ''))?.[1] ?? -1);
      if (r.method !== 'PATCH' || start < 3 * MiB) return false;
      held = true;
      return true;
    };
    const args = ['push', fixture.archive, '--registry', `${proxy.host}/${prefix}`, '--insecure', '--json'];
    const flags = ['--chunk-size', '1M', '--concurrency', '1'];
    const first = spawnCli([...args, ...flags], { OFFLINE_UPLOAD_STATE_DIR: state, TMPDIR: await tempDir() });
    const deadline = Date.now() + 60_000;
    while (!held && Date.now() < deadline && first.child.exitCode === null) await sleep(20);
    expect(held).toBe(true);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect((await fetchManifest(registry.host, `${prefix}/${app.split(':')[0]}`, '1.0')).status).toBe(404);

    proxy.hold = undefined;
    const second = await runCli([...args, ...flags], { env: { OFFLINE_UPLOAD_STATE_DIR: state } });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const json = second.json as { blobs: Record<string, number>; bytesSent: number };
    expect(json.blobs.resumed).toBe(1);
    expect(json.blobs.present).toBeGreaterThan(0);
    // Without the resume the 6 MB layer alone would be sent again in full.
    expect(json.bytesSent).toBeLessThan(6_000_000 - 2 * MiB);
    await pullAndCompare(registry.host, prefix);
  });

  it('completes a push killed while a chunk was half sent (the registry holds a partial chunk)', async () => {
    const state = await tempDir();
    const prefix = `${name}-cut`;
    const proxy = await startCountingProxy(registry.host);
    proxies.push(proxy);
    let cut: { path: string; start: number; length: number } | undefined;
    proxy.cut = (r) => {
      const start = Number(/^(\d+)-/.exec(String(r.headers['content-range'] ?? ''))?.[1] ?? -1);
      const length = Number(r.headers['content-length'] ?? 0);
      if (r.method !== 'PATCH' || start < 2 * MiB || length < MiB || cut) return undefined;
      cut = { path: r.path, start, length };
      return 300_000;
    };
    const args = ['push', fixture.archive, '--registry', `${proxy.host}/${prefix}`, '--insecure', '--json'];
    const flags = ['--chunk-size', '1M', '--concurrency', '1'];
    const first = spawnCli([...args, ...flags], { OFFLINE_UPLOAD_STATE_DIR: state, TMPDIR: await tempDir() });
    const deadline = Date.now() + 60_000;
    while (!cut && Date.now() < deadline && first.child.exitCode === null) await sleep(20);
    if (!cut) return expect.fail('no chunk past 2 MiB was sent');
    // The premise: the client saved the chunk's start as its offset, and the registry's upload (on disk, read
    // without asking it: a status request with the stale state would cancel the upload) holds more than that.
    const { start, length } = cut;
    const [, repository, uuid] = /^\/v2\/(.+)\/blobs\/uploads\/([^/?]+)/.exec(cut.path) ?? [];
    const saved = await Promise.all(
      (await readdir(state)).map(
        async (file) => JSON.parse(await readFile(path.join(state, file), 'utf8')) as SavedUpload,
      ),
    );
    expect(saved.filter((upload) => upload.location.includes(String(uuid)))).toEqual([
      expect.objectContaining({ offset: start }),
    ]);
    const data = path.join(
      registry.storage,
      'docker/registry/v2/repositories',
      String(repository),
      '_uploads',
      String(uuid),
      'data',
    );
    const held = async () => (await stat(data).catch(() => undefined))?.size ?? 0;
    await vi.waitFor(async () => expect(await held()).toBeGreaterThan(start), { timeout: 30_000 });
    expect(await held()).toBeLessThan(start + length);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');

    proxy.cut = undefined;
    const second = await runCli([...args, ...flags], { env: { OFFLINE_UPLOAD_STATE_DIR: state } });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const json = second.json as { blobs: Record<string, number> };
    // Distribution keeps the partial bytes, so the saved offset no longer matches its upload: it refuses the
    // resume and that blob starts again (a registry that dropped them would let it continue).
    expect(Number(json.blobs.resumed) + Number(json.blobs.uploaded)).toBeGreaterThan(0);
    await pullAndCompare(registry.host, prefix);
  });

  it('stops on Ctrl-C with exit 130, removes its spool, and keeps the upload state for the next run', async () => {
    const spoolParent = await tempDir();
    const state = await tempDir();
    const proxy = await startCountingProxy(registry.host);
    proxies.push(proxy);
    let held = false;
    proxy.hold = (r) => {
      held ||= r.method === 'PATCH' && String(r.headers['content-range']).startsWith(`${MiB}-`);
      return held;
    };
    const args = ['push', fixture.archive, '--registry', `${proxy.host}/${name}-int`, '--insecure'];
    const run = spawnCli([...args, '--chunk-size', '1M', '--concurrency', '1'], {
      OFFLINE_UPLOAD_STATE_DIR: state,
      TMPDIR: spoolParent,
    });
    const deadline = Date.now() + 60_000;
    while (!held && Date.now() < deadline && run.child.exitCode === null) await sleep(20);
    expect(held).toBe(true);
    const spools = async () => (await readdir(spoolParent)).filter((n) => n.startsWith('offline-push-'));
    expect(await spools()).toHaveLength(1);
    run.child.kill('SIGINT');
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(done.stderr).toMatch(/interrupted/);
    expect(await spools()).toEqual([]);
    expect(await readdir(state)).toHaveLength(1);
  });

  it('a push killed outright (SIGKILL) leaves its spool, and the next push removes it', async () => {
    const spoolParent = await tempDir();
    const state = await tempDir();
    const proxy = await startCountingProxy(registry.host);
    proxies.push(proxy);
    let held = false;
    proxy.hold = (r) => {
      held ||= r.method === 'PATCH';
      return held;
    };
    const env = { OFFLINE_UPLOAD_STATE_DIR: state, TMPDIR: spoolParent };
    const args = ['push', fixture.archive, '--registry', `${proxy.host}/${name}-kill`, '--insecure'];
    const run = spawnCli([...args, '--concurrency', '1'], env);
    const deadline = Date.now() + 60_000;
    while (!held && Date.now() < deadline && run.child.exitCode === null) await sleep(20);
    expect(held).toBe(true);
    const spools = async () => (await readdir(spoolParent)).filter((n) => n.startsWith('offline-push-'));
    const left = await spools();
    expect(left).toHaveLength(1);
    // The push itself, named in its spool (run.child is tsx, which runs it in a child process).
    const pid = Number(/^offline-push-[0-9a-f]{8}-\d+-(\d+)-/.exec(left[0] as string)?.[1]);
    process.kill(pid, 'SIGKILL');
    await run.done;
    expect(await spools()).toEqual(left);
    proxy.hold = undefined;
    const again = await runCli([...args, '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(await spools()).toEqual([]);
  });

  it('pushes with basic auth, and names a refused or missing login EAUTH', async () => {
    const state = await tempDir();
    const args = [
      'push',
      fixture.archive,
      '--registry',
      `${authRegistry.host}/${name}`,
      '--insecure',
      '--json',
    ];
    const env = { OFFLINE_UPLOAD_STATE_DIR: state };
    const wrong = await runCli(args, {
      env: { ...env, OFFLINE_REGISTRY_USER: 'alice', OFFLINE_REGISTRY_PASSWORD: 'wrong' },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.json?.error).toMatchObject({ code: 'EAUTH' });
    expect(wrong.stderr).toMatch(/refused the credentials of user "alice"/);
    const none = await runCli(args, { env });
    expect(none.json?.error).toMatchObject({ code: 'EAUTH' });
    expect(none.stderr).toMatch(/asks for credentials/);

    const right = await runCli(args, {
      env: { ...env, OFFLINE_REGISTRY_USER: 'alice', OFFLINE_REGISTRY_PASSWORD: 's3cret' },
    });
    expect(right.stderr).toBe('');
    expect(right.code).toBe(0);
    const repo = `${name}/${app.split(':')[0]}`;
    expect((await fetchManifest(authRegistry.host, repo, '1.0')).status).toBe(401);
    const { manifest } = await fetchManifest(authRegistry.host, repo, '1.0', 'alice:s3cret');
    expect(manifest?.config.digest).toBe(idOf(app));
  });

  it('pushes over TLS to a registry whose certificate --ca names, and refuses it without', async () => {
    const tls = await startRegistry(undefined, { tls: true });
    try {
      const state = await tempDir();
      const args = ['push', fixture.archive, '--registry', `${tls.host}/${name}`, '--json'];
      const untrusted = await runCli(args, { env: { OFFLINE_UPLOAD_STATE_DIR: state } });
      expect(untrusted.code).toBe(1);
      expect(untrusted.json?.error).toMatchObject({ code: 'EREGISTRY' });
      expect(untrusted.stderr).toMatch(/certificate/i);
      const trusted = await runCli([...args, '--ca', String(tls.caFile)], {
        env: { OFFLINE_UPLOAD_STATE_DIR: state },
      });
      expect(trusted.stderr).toBe('');
      expect(trusted.code).toBe(0);
      const repo = `${name}/${app.split(':')[0]}`;
      expect(await ping(tls.host, tls.ca, `/v2/${repo}/manifests/1.0`)).toBe(200);
    } finally {
      await tls.stop();
    }
  });

  it('refuses with ENOSPACE, before reading the images, when TMPDIR has no room for the spool', async () => {
    const mount = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
    try {
      const result = await runCli(
        ['push', fixture.archive, '--registry', `${registry.host}/${name}-full`, '--insecure', '--json'],
        { env: { TMPDIR: mount } },
      );
      expect(result.code).toBe(1);
      expect(result.json?.error).toMatchObject({ code: 'ENOSPACE', file: mount });
      expect((await readdir(mount)).filter((n) => n.startsWith('offline-push-'))).toEqual([]);
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it('names an unreachable registry EREGISTRY and a bad address EUSAGE', async () => {
    const port = await freePort();
    const down = await runCli([
      'push',
      fixture.archive,
      '--registry',
      `127.0.0.1:${port}`,
      '--insecure',
      '--json',
    ]);
    expect(down.code).toBe(1);
    expect(down.json?.error).toMatchObject({ code: 'EREGISTRY' });
    const bad = await runCli(['push', fixture.archive, '--registry', 'http://x/Y', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.json?.error).toMatchObject({ code: 'EUSAGE' });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
