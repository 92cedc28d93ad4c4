import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolVersion } from '../../src/cli/version.js';
import { buildImporter } from '../../src/selfcontained/importer-build.js';
import { launcherHead } from '../../src/selfcontained/launcher.js';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CA = '/etc/offline-test/extra-ca.pem';

/** The environment of a run: this one's PATH (for node), with NODE_EXTRA_CA_CERTS and DOCKER_HOST as given. */
function envWith(vars: { NODE_EXTRA_CA_CERTS?: string; DOCKER_HOST?: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, OFFLINE_SILENT: '1', OFFLINE_CODE_CACHE: 'off' };
  return { ...env, ...vars };
}

describe('the launcher at the head of offline.mjs', () => {
  let dir: string;
  let probe: string;

  beforeAll(async () => {
    // The launcher, then a script that prints what Node got: NODE_EXTRA_CA_CERTS, the arguments, the script's
    // path and whether it runs as CommonJS (an ES module has no require), in a folder whose name has a space.
    dir = await mkdtemp(path.join(tmpdir(), 'offline launcher-'));
    probe = path.join(dir, 'probe.mjs');
    await writeFile(
      probe,
      `${launcherHead()}console.log(JSON.stringify({ ca: process.env.NODE_EXTRA_CA_CERTS ?? null, args: process.argv.slice(2), file: process.argv[1], commonjs: typeof require === 'function' }));\n`,
    );
    await chmod(probe, 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  type Probed = { ca: string | null; args: string[]; file: string; commonjs: boolean };
  /** What the probe printed, run as `how` (the file itself, or an interpreter given the file). */
  const probeRun = async (how: string[], args: string[], env: NodeJS.ProcessEnv) => {
    const [command, ...rest] = [...how, probe];
    const { stdout } = await run(command as string, [...rest, ...args], { env });
    return JSON.parse(stdout) as Probed;
  };

  const asProgram = [
    { by: 'its hashbang', how: [] },
    { by: '/bin/sh', how: ['/bin/sh'] },
    { by: 'bash', how: ['bash'] },
    { by: 'busybox sh', how: ['/bin/busybox', 'sh'] },
  ];

  it.each(asProgram)(
    'run by $by, unsets NODE_EXTRA_CA_CERTS for the commands that never open TLS',
    async ({ how }) => {
      for (const args of [
        ['import', 'b.tar.gz'],
        ['--json', 'verify', 'b'],
        ['inspect', 'b'],
        ['rebuild', 'app'],
        ['checksum', 'verify'],
      ]) {
        for (const DOCKER_HOST of [undefined, 'unix:///run/docker.sock']) {
          expect(await probeRun(how, args, envWith({ NODE_EXTRA_CA_CERTS: CA, DOCKER_HOST }))).toMatchObject({
            ca: null,
            args,
          });
        }
      }
    },
  );

  it.each(asProgram)('run by $by, keeps it for every other command and for a tcp engine', async ({ how }) => {
    for (const args of [
      ['export', 'bundles/demo'],
      ['--json', 'push', 'b'],
      ['tiktoken', 'fetch'],
      ['--version'],
      [],
      ['x', 'import'],
    ]) {
      expect(await probeRun(how, args, envWith({ NODE_EXTRA_CA_CERTS: CA }))).toMatchObject({ ca: CA, args });
    }
    const tcp = envWith({ NODE_EXTRA_CA_CERTS: CA, DOCKER_HOST: 'tcp://10.0.0.2:2376' });
    expect(await probeRun(how, ['import', 'b'], tcp)).toMatchObject({ ca: CA, args: ['import', 'b'] });
  });

  it('passes every argument through unchanged, spaces, quotes and globs included', async () => {
    const args = ['import', 'a b.tar.gz', "it's", '$HOME', '*', '"q"', '', '--target=x y'];
    expect(await probeRun([], args, envWith({}))).toMatchObject({ ca: null, args });
  });

  it.each(asProgram)(
    'run by $by, starts Node on the file as a script given require, its real path as argv[1], however it was named',
    async ({ how }) => {
      const real = await realpath(probe);
      const link = path.join(dir, 'bin', 'offline');
      await mkdir(path.dirname(link), { recursive: true });
      await symlink(probe, link).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      const relative = how.length === 0 ? './probe.mjs' : 'probe.mjs';
      for (const [file, cwd] of [
        [probe, undefined],
        [relative, dir],
        [link, undefined],
        ['../probe.mjs', path.join(dir, 'bin')],
      ] as const) {
        const [command, ...rest] = [...how, file];
        const { stdout } = await run(command as string, [...rest, 'import', 'b'], { env: envWith({}), cwd });
        expect(JSON.parse(stdout)).toEqual({ ca: null, args: ['import', 'b'], file: real, commonjs: true });
      }
    },
  );

  it('is JavaScript to Node: `node offline.mjs` runs the file as an ES module, without the launcher', async () => {
    const args = ['import', 'b'];
    expect(await probeRun([process.execPath], args, envWith({ NODE_EXTRA_CA_CERTS: CA }))).toEqual({
      ca: CA,
      args,
      file: await realpath(probe),
      commonjs: false,
    });
  });
});

describe('offline.mjs as built', () => {
  let bin: string;
  beforeAll(async () => {
    // Inside the checkout, as `make build` places dist/offline.mjs.
    bin = path.join(repo, '.tmp', `launcher-${process.pid}.mjs`);
    await buildImporter(bin, toolVersion());
  }, 120_000);
  afterAll(() => rm(bin, { force: true }));

  it('starts with the launcher', async () => {
    expect((await readFile(bin, 'latin1')).startsWith(launcherHead())).toBe(true);
  });

  // Node 20 warns on stderr, before any script runs, when the CA bundle it was given cannot be read: the
  // warning shows whether the process that ran offline was started with NODE_EXTRA_CA_CERTS.
  const unreadable = envWith({ NODE_EXTRA_CA_CERTS: '/nonexistent/offline-test-ca.pem' });
  const warning = /Warning: Ignoring extra certs from `\/nonexistent\/offline-test-ca\.pem`/;
  const outcome = (how: string[], args: string[]) =>
    run(how[0] as string, [...how.slice(1), ...args], { env: unreadable }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('run as a program, `verify` starts Node without the CA bundle and still fails as `node offline.mjs verify` does', async () => {
    const args = ['verify', '/nonexistent/b.offline.tar.gz'];
    const direct = await outcome([bin], args);
    const viaNode = await outcome([process.execPath, bin], args);
    expect(direct.code).toBe(viaNode.code);
    expect(direct.code).toBeGreaterThan(0);
    expect(viaNode.stderr).toMatch(warning);
    expect(direct.stderr).not.toMatch(warning);
    expect(direct.stderr).toBe(viaNode.stderr.replace(/^Warning: Ignoring extra certs.*\n/m, ''));
  });

  // Node's ES module loader shows in the modules it loaded: its module_job only once a module is run as one.
  it('run as a program, Node loads no ES module loader; as `node offline.mjs`, it does', async () => {
    const probeDir = await mkdtemp(path.join(tmpdir(), 'offline-esm-'));
    try {
      const preload = path.join(probeDir, 'loaded.cjs');
      await writeFile(
        preload,
        "process.on('exit', () => process.stderr.write('esm loader: ' + process.moduleLoadList.some((m) => m.endsWith('internal/modules/esm/module_job')) + '\\n'));\n",
      );
      const env = { ...envWith({}), NODE_OPTIONS: `--require=${preload}` };
      const asProgram = await run(bin, ['--version'], { env });
      const viaNode = await run(process.execPath, [bin, '--version'], { env });
      expect(asProgram).toEqual({ stdout: `${toolVersion()}\n`, stderr: 'esm loader: false\n' });
      expect(viaNode).toEqual({ stdout: `${toolVersion()}\n`, stderr: 'esm loader: true\n' });
    } finally {
      await rm(probeDir, { recursive: true, force: true });
    }
  });

  it('run as a program, `tiktoken --help` keeps it', async () => {
    const direct = await outcome([bin], ['tiktoken', '--help']);
    expect(direct).toMatchObject({ code: 0, stdout: expect.stringContaining('tiktoken') });
    expect(direct.stderr).toMatch(warning);
  });
});
