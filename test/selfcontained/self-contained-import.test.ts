import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { toolVersion } from '../../src/cli/version.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { buildContextStream } from '../../src/export/build-context.js';
import { buildImporter } from '../../src/selfcontained/importer-build.js';
import { runCli } from '../support/cli.js';
import { removeComposeProject, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { assertNoNodeModulesUp, busyboxPath, flipByte, runClean } from './clean-env.js';

const repo = path.resolve(import.meta.dirname, '../..');
let engine: DockerEngine;
let project: string;
let image: string;
let imageId: string;
let work: string;
let archive: string;
let manifest: BundleManifest;
let exportStderr: string;
/** The single-file build the export ran from, in the checkout's .tmp/ folder. */
let bin: string | undefined;
const stem = () => `${project}-1.0.0`;

const compose = (ref: string) => `version: "2.4"
services:
  web:
    image: ${ref}
    environment:
      SECRET_KEY: \${SECRET_KEY:-}
    volumes:
      - ./tiktoken:/tiktoken:ro
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 30
`;

/** Removes what a started stack left (containers, network) and the image, so the next way loads it again. */
async function clearEngine(): Promise<void> {
  removeComposeProject(project);
  await removeImages(engine, [image, imageId]);
}

/** A fresh `tar xzf` of the bundle in a temp folder outside the repository; returns the bundle folder. */
async function extract(): Promise<string> {
  const root = await mkdtemp(path.join(work, 'usb-'));
  execFileSync('tar', ['xzf', archive, '-C', root]);
  const dir = path.join(root, stem());
  await assertNoNodeModulesUp(dir);
  return dir;
}

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  project = uniqueName('sc');
  image = `offline-test/${project}-web:1`;
  work = await mkdtemp(path.join(tmpdir(), 'offline-sc-'));
  await writeFile(
    path.join(work, 'Dockerfile'),
    `FROM ${docker.baseImage}\nRUN mkdir -p /var/www && echo hello > /var/www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/var/www"]\n`,
  );
  await engine.buildImage(await buildContextStream(work, 'Dockerfile'), { tags: [image] });
  imageId = (await engine.inspectImage(image))?.id as string;
  const stack = path.join(work, 'stack');
  await mkdir(stack);
  await writeFile(path.join(stack, 'docker-compose.yml'), compose(image));
  await writeFile(path.join(stack, '.env.example'), 'SECRET_KEY=\nMODE=prod\n');
  await writeFile(
    path.join(stack, 'bundle.yaml'),
    `name: ${project}\nversion: 1.0.0\npull: never\ntiktoken:\n  encodings: [cl100k_base]\nenv:\n  template: .env.example\n  generate:\n    SECRET_KEY: { kind: hex, bytes: 32 }\n`,
  );
  // Through the `offline` bin: a single-file build inside the checkout (make build writes it to dist/), which
  // puts a copy of itself in the bundle as offline.mjs and builds the single executable from the checkout's
  // source (--with-runtime).
  bin = path.join(repo, '.tmp', `${project}.mjs`);
  await buildImporter(bin, toolVersion());
  const out = path.join(work, 'usb');
  const exported = await runCli(['export', stack, '--out', out, '--with-runtime', '--json'], {
    bin,
    env: { TIKTOKEN_CACHE_DIR: path.join(repo, 'node_modules/gpt-tokenizer/data') },
  });
  if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr}`);
  exportStderr = exported.stderr;
  archive = path.join(out, `${stem()}.offline.tar.gz`);
  manifest = JSON.parse(
    execFileSync('tar', ['xzOf', archive, `${stem()}/manifest.json`], { encoding: 'utf8' }),
  );
}, 240_000);

afterEach(async () => {
  await clearEngine();
});

afterAll(async () => {
  await clearEngine();
  if (work) await rm(work, { recursive: true, force: true });
  if (bin) await rm(bin, { force: true });
});

describe('the bundle carries its importers', () => {
  it('offline.mjs, import.sh and the single executable, mode 0755, named in manifest.runtime', async () => {
    expect(manifest.runtime).toEqual({
      importer: 'offline.mjs',
      node: '>=20.17',
      script: 'import.sh',
      executable: 'offline',
      platform: `${process.platform}-${process.arch}`,
    });
    const listing = execFileSync('tar', ['tzvf', archive], { encoding: 'utf8' });
    for (const name of ['offline.mjs', 'import.sh', 'offline']) {
      expect(listing).toMatch(new RegExp(`^-rwxr-xr-x .* ${stem()}/${name}\\n`, 'm'));
    }
    expect(manifest.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['offline.mjs', 'import.sh', 'offline']),
    );
    // postject's harmless ELF notes stay out of the user's output.
    expect(exportStderr).not.toMatch(/string offset/);
    const readme = execFileSync('tar', ['xzOf', archive, `${stem()}/README.txt`], { encoding: 'utf8' });
    expect(readme).toContain('node offline.mjs import . --start');
    expect(readme).toContain('sh import.sh --start');
    expect(readme).toContain(
      `Without Node (${process.platform}-${process.arch}):  ./offline import . --start`,
    );
    // The importers come right after README.txt, before the stack and the images.
    const order = listing.split('\n').map((line) => line.split(`${stem()}/`)[1]);
    expect(order.slice(3, 6).sort()).toEqual(['import.sh', 'offline', 'offline.mjs']);
  });

  it('offline.mjs leaves out what offline never reaches (BuildKit gRPC, ssh2), which start-up would evaluate', async () => {
    const importer = execFileSync('tar', ['xzOf', archive, `${stem()}/offline.mjs`], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    // The build is minified, so each module is recognised by a string literal of its own code (checked to
    // be there, so the test cannot pass on a string the module does not hold).
    const literal = async (file: string, text: string) => {
      expect(await readFile(path.join(repo, 'node_modules', file), 'utf8')).toContain(text);
      return text;
    };
    expect(importer).toContain(await literal('dockerode/lib/docker.js', '/images/load'));
    const leftOut = [
      ['@grpc/grpc-js/build/src/channel-options.js', 'grpc.max_receive_message_length'],
      ['@grpc/proto-loader/build/src/index.js', 'keepCase'],
      ['protobufjs/src/reader.js', 'index out of range: '],
      ['ssh2/lib/protocol/Protocol.js', 'SSH-2.0-'],
      ['ssh2/lib/protocol/constants.js', 'cpu-features'],
    ];
    for (const [file, text] of leftOut) {
      expect(importer).not.toContain(await literal(file as string, text as string));
    }
    expect(importer).toContain('dockerode BuildKit support is not part of offline');
  });

  it('offline.mjs is the running single-file build itself, byte for byte', async () => {
    const carried = execFileSync('tar', ['xzOf', archive, `${stem()}/offline.mjs`], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    expect(sha256(carried)).toBe(sha256(await readFile(bin as string)));
  });

  it('a copy of offline.mjs outside a checkout refuses --with-runtime before any work (EUSAGE, exit 2)', async () => {
    const elsewhere = await mkdtemp(path.join(work, 'copy-'));
    const copy = path.join(elsewhere, 'offline.mjs');
    await writeFile(copy, await readFile(bin as string));
    const out = path.join(elsewhere, 'out');
    const run = await runCli(
      ['export', path.join(work, 'stack'), '--out', out, '--with-runtime', '--force', '--json'],
      { bin: copy },
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.json?.error).toMatchObject({
      code: 'EUSAGE',
      // It looks one folder up from the file, as dist/offline.mjs in a checkout finds src/cli/main.ts.
      file: path.join(work, 'src', 'cli', 'main.ts'),
      message: expect.stringMatching(/needs offline's source/),
    });
    await expect(access(out)).rejects.toThrow();
  });
});

describe('node offline.mjs import . (Node only, no node_modules, network off)', () => {
  it('loads the images, places the files in stack/ and starts the stack', async () => {
    const dir = await extract();
    expect(await engine.inspectImage(imageId)).toBeUndefined();
    const run = await runClean(process.execPath, ['offline.mjs', 'import', '.', '--start', '--json'], {
      cwd: dir,
      path: '/usr/bin:/bin',
    });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { report: { images: { loaded: string[] }; target: string } };
    expect(result.report.images.loaded).toEqual([imageId]);
    expect((await engine.inspectImage(image))?.id).toBe(imageId);
    const env = await readFile(path.join(dir, 'stack/.env'), 'utf8');
    expect(env).toMatch(/^SECRET_KEY=[0-9a-f]{64}$/m);
    await access(path.join(dir, 'stack/import-report.json'));
    const tiktoken = manifest.tiktoken.entries[0];
    const cached = await readFile(path.join(dir, 'stack', tiktoken?.file as string));
    expect(createHash('sha256').update(cached).digest('hex')).toBe(tiktoken?.sha256);
    const containers = await engine.listContainers(`com.docker.compose.project=${manifest.project}`);
    expect(containers.map((c) => c.health)).toEqual(['healthy']);

    // Run again, offline.mjs as a program this time (its sh launcher finds node on PATH): everything is in place,
    // the in-place outputs are not "unlisted", and verify agrees.
    const withNode = `${path.dirname(process.execPath)}:/usr/bin:/bin`;
    const again = await runClean('./offline.mjs', ['import', '.', '--json'], { cwd: dir, path: withNode });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      report: { images: { loaded: [], skipped: [imageId] } },
    });
    const verify = await runClean('/bin/sh', ['offline.mjs', 'verify', '.'], { cwd: dir, path: withNode });
    expect(verify.code, verify.stderr).toBe(0);

    // A re-import loads none of the built-in modules that only other ways need (TLS for an https:// engine or a
    // registry, child_process for compose and zstd, perf_hooks): importer-build.ts defers two dependencies' own.
    const preload = path.join(path.dirname(dir), 'loaded-modules.cjs');
    await writeFile(
      preload,
      "process.on('exit', () => process.stderr.write('loaded: ' + process.moduleLoadList.join(',') + '\\n'));\n",
    );
    const traced = await runClean(process.execPath, ['--require', preload, 'offline.mjs', 'import', '.'], {
      cwd: dir,
      path: withNode,
    });
    expect(traced.code, traced.stderr).toBe(0);
    const loaded = /^loaded: (.*)$/m.exec(traced.stderr)?.[1]?.split(',') ?? [];
    expect(loaded).toContain('NativeModule zlib');
    for (const unused of ['tls', 'https', 'child_process', 'perf_hooks']) {
      expect(loaded).not.toContain(`NativeModule ${unused}`);
    }
  });

  it('refuses a bundle of an unknown format version with a clear error, loading nothing', async () => {
    const dir = await extract();
    const file = path.join(dir, 'manifest.json');
    const text = (await readFile(file, 'utf8')).replace('"schemaVersion": 1', '"schemaVersion": 2');
    await writeFile(file, text);
    // The lists stay consistent, so the version itself is what is refused.
    const sums = await readFile(path.join(dir, 'checksums.sha256'), 'utf8');
    const digest = createHash('sha256').update(text).digest('hex');
    await writeFile(
      path.join(dir, 'checksums.sha256'),
      sums.replace(/^[0-9a-f]{64} {2}manifest\.json$/m, `${digest}  manifest.json`),
    );
    const run = await runClean(process.execPath, ['offline.mjs', 'import', '.'], {
      cwd: dir,
      path: '/usr/bin:/bin',
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/EFORMAT: manifest\.json: bundle format version 2 is not supported/);
    expect(await engine.inspectImage(imageId)).toBeUndefined();
  });
});

// The same script on two hosts: dash with coreutils, and busybox alone (Alpine without coreutils: its
// sha256sum has no --quiet). Network off in both.
describe.each([
  { host: 'dash, coreutils and docker', shell: ['/bin/dash'], path: async () => '/usr/bin:/bin' },
  { host: 'busybox sh, busybox tools only, and docker', shell: ['/bin/busybox', 'sh'], path: busyboxPath },
])('sh import.sh on a host with $host', ({ shell, path: hostPath }) => {
  let dirs: string;
  beforeAll(async () => {
    dirs = await hostPath();
  });
  const importSh = (cwd: string, args: string[]) =>
    runClean(shell[0] as string, [...shell.slice(1), ...args], { cwd, path: dirs });

  it('verifies, loads, places the stack with a generated .env and starts it with the installed compose', async () => {
    const dir = await extract();
    const run = await importSh(dir, ['import.sh', '--start']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('1/5 verifying every file');
    // Only the files that fail are named: no line per good file.
    expect(run.stderr).not.toMatch(/: OK$/m);
    expect(run.stderr).toContain(`TIKTOKEN_CACHE_DIR=${dir}/stack/tiktoken`);
    expect((await engine.inspectImage(image))?.id).toBe(imageId);
    const env = await readFile(path.join(dir, 'stack/.env'), 'utf8');
    expect(env).toBe(`${env.match(/^SECRET_KEY=[0-9a-f]{64}$/m)?.[0]}\nMODE=prod\n`);
    expect((await stat(path.join(dir, 'stack/.env'))).mode & 0o777).toBe(0o600);
    await access(path.join(dir, 'stack', manifest.tiktoken.entries[0]?.file as string));
    const containers = await engine.listContainers(`com.docker.compose.project=${manifest.project}`);
    expect(containers.map((c) => c.state)).toEqual(['running']);
  });

  it('copies the stack to a TARGET folder and keeps an existing .env', async () => {
    const dir = await extract();
    const target = path.join(path.dirname(dir), 'site');
    await mkdir(target);
    await writeFile(path.join(target, '.env'), 'SECRET_KEY=mine\n');
    const run = await importSh(path.dirname(dir), [path.join(dir, 'import.sh'), target]);
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(path.join(target, 'docker-compose.yml'), 'utf8')).toBe(compose(image));
    expect(await readFile(path.join(target, '.env'), 'utf8')).toBe('SECRET_KEY=mine\n');
    await access(path.join(target, manifest.tiktoken.entries[0]?.file as string));
  });

  it('stops at a corrupted file with sha256sum -c naming it: non-zero exit, nothing loaded', async () => {
    const dir = await extract();
    await flipByte(path.join(dir, 'images/images.tar'));
    const run = await importSh(dir, ['import.sh', '--start']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/images\/images\.tar: FAILED/);
    expect(run.stderr).not.toMatch(/: OK$/m);
    expect(run.stderr).toMatch(/verification failed/);
    expect(await engine.inspectImage(imageId)).toBeUndefined();
    await expect(access(path.join(dir, 'stack/.env'))).rejects.toThrow();
  });

  it('refuses a symbolic link in the bundle folder before reading anything', async () => {
    const dir = await extract();
    await symlink('/etc', path.join(dir, 'stack/etc'));
    const run = await importSh(dir, ['import.sh']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('./stack/etc is a symbolic link');
    expect(run.stderr).not.toContain('1/5');
    expect(await engine.inspectImage(imageId)).toBeUndefined();
  });

  it('stops when a placed file differs from the bundle, naming it', async () => {
    const dir = await extract();
    const target = path.join(path.dirname(dir), 'site');
    await mkdir(target);
    await writeFile(path.join(target, 'docker-compose.yml'), 'services: {}\n');
    const run = await importSh(path.dirname(dir), [path.join(dir, 'import.sh'), target]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/docker-compose\.yml: FAILED/);
    expect(run.stderr).toMatch(/differ from the bundle/);
  });
});

describe('./offline import . (the single executable: no Node on the host)', () => {
  it('imports with an empty PATH', async () => {
    const dir = await extract();
    const run = await runClean('./offline', ['import', '.', '--json'], { cwd: dir, path: '/nonexistent' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/Warning/);
    expect((await engine.inspectImage(image))?.id).toBe(imageId);
    await access(path.join(dir, 'stack/import-report.json'));
    expect(await readFile(path.join(dir, 'stack/.env'), 'utf8')).toMatch(/^SECRET_KEY=[0-9a-f]{64}$/m);
  });
});
