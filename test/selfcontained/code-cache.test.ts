import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolVersion } from '../../src/cli/version.js';
import { codeCacheFile, KEEP_BUILDS, writeCodeCache } from '../../src/selfcontained/code-cache.js';
import { CARRIER, embedCli, extractCli } from '../../src/selfcontained/embedded-cli.js';
import { buildImporter } from '../../src/selfcontained/importer-build.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const execFileAsync = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HASH = 'ab'.repeat(32);
const runtime = `${process.version}-${process.arch}`;

describe('codeCacheFile', () => {
  it('is one file per build, Node version and command, under OFFLINE_CODE_CACHE', () => {
    expect(codeCacheFile(HASH, ['import', 'x.tar.gz', '--json'], { OFFLINE_CODE_CACHE: '/c' })).toBe(
      `/c/abababababababab-${runtime}-import.v8`,
    );
    expect(codeCacheFile(HASH, ['--version'], { OFFLINE_CODE_CACHE: '/c' })).toBe(
      `/c/abababababababab-${runtime}-none.v8`,
    );
    // Whatever the first argument holds, the name stays one plain file name.
    expect(codeCacheFile(HASH, ['../../etc'], { OFFLINE_CODE_CACHE: '/c' })).toBe(
      `/c/abababababababab-${runtime}-etc.v8`,
    );
  });

  it('falls back to XDG_CACHE_HOME, then ~/.cache, and is off with OFFLINE_CODE_CACHE=off', () => {
    expect(codeCacheFile(HASH, ['verify'], { XDG_CACHE_HOME: '/x' })).toBe(
      `/x/offline/code/abababababababab-${runtime}-verify.v8`,
    );
    expect(codeCacheFile(HASH, ['verify'], {})).toMatch(/\/\.cache\/offline\/code\/[^/]+-verify\.v8$/);
    expect(codeCacheFile(HASH, ['verify'], { OFFLINE_CODE_CACHE: 'off' })).toBeUndefined();
  });
});

describe('writeCodeCache', () => {
  it('keeps the KEEP_BUILDS newest caches for its Node version and command, and leaves every other file', async () => {
    const dir = await tempDir('offline-code-prune-');
    const name = (hash: string, command = 'import') => `${hash.repeat(16)}-${runtime}-${command}.v8`;
    // Six older builds' caches of `import`, oldest first, plus caches this pruning must leave alone.
    const older = ['1', '2', '3', '4', '5', '6'].map((h) => name(h));
    const untouched = [name('1', 'verify'), `${'1'.repeat(16)}-v0.0.0-x64-import.v8`, 'notes.txt'];
    for (const [i, file] of [...older, ...untouched].entries()) {
      await writeFile(path.join(dir, file), 'x');
      await utimes(path.join(dir, file), 1_700_000_000 + i, 1_700_000_000 + i);
    }
    const mine = path.join(dir, name('f'));
    writeCodeCache(mine, Buffer.from('cache'));
    expect((await readdir(dir)).sort()).toEqual(
      [path.basename(mine), ...older.slice(-(KEEP_BUILDS - 1)), ...untouched].sort(),
    );
    expect(await readFile(mine, 'utf8')).toBe('cache');
  });
});

describe('embedCli / extractCli', () => {
  it('carries any ASCII source in one trailing comment and gives it back exactly', () => {
    const tricky = [
      'a = b */ c; /* x */',
      '\u0001',
      '\u0001\u0002',
      '*\u0001/',
      '\u0001/',
      '*\u0001\u0002/',
      '"*/"',
      '/*offline-cli-commonjs\n*/',
      '',
    ];
    for (const source of tricky) {
      const carrier = embedCli(source);
      const file = `#!/usr/bin/env node\nconsole.log(1);\n${carrier}`;
      // The comment closes exactly once, at the end of the carrier function.
      expect(file.indexOf('*/')).toBe(file.length - 4);
      expect(extractCli(file)).toBe(source);
      // As the loader reads it back: the carrier's own text, from the source V8 holds.
      const carried = new Function(`${carrier}; return ${CARRIER}.toString();`)() as string;
      expect(extractCli(carried)).toBe(source);
    }
    expect(extractCli('console.log(1);\n')).toBeUndefined();
    expect(() => embedCli('const s = "\u00e9";')).toThrow(/must be ASCII/);
  });
});

describe('offline.mjs runs through the code cache', () => {
  let bin: string;
  let work: string;
  /**
   * A preload that keeps the process running until a file shows in the cache folder (looking every 25 ms, up
   * to 15 s), then 0.3 s more, and prints on stderr what it found there (each file with its mtime). The file
   * shows only if the CLI wrote it while running: a write at exit comes after the preload gave up and printed.
   */
  let lingering: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'offline-code-cache-'));
    // Inside the checkout, as `make build` places dist/offline.mjs.
    bin = path.join(repo, '.tmp', `code-cache-${process.pid}.mjs`);
    await buildImporter(bin, toolVersion());
    lingering = path.join(work, 'lingering.cjs');
    await writeFile(
      lingering,
      `const fs = require('node:fs'), path = require('node:path');
const dir = process.env.OFFLINE_CODE_CACHE;
const started = Date.now();
const look = setInterval(() => {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  if (files.length === 0 && Date.now() - started < 15000) return;
  clearInterval(look);
  const seen = files.map((name) => ({ name, mtimeMs: fs.statSync(path.join(dir, name)).mtimeMs }));
  process.stderr.write('while running: ' + JSON.stringify(seen) + '\\n');
  setTimeout(() => {}, 300);
}, 25);
`,
    );
  }, 120_000);

  afterAll(async () => {
    await rm(bin, { force: true });
    await rm(work, { recursive: true, force: true });
  });

  /** The folder's entries, sorted; none when it does not exist. */
  const cached = async (dir: string) =>
    (
      await readdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [] as string[];
        throw error;
      })
    ).sort();

  it('writes the cache when a command is done, then runs from it without writing again', async () => {
    const dir = path.join(work, 'first');
    const env = { OFFLINE_CODE_CACHE: dir };
    const first = await runCli(['--version'], { bin, env });
    expect(first).toMatchObject({ code: 0, stdout: `${toolVersion()}\n`, stderr: '' });
    const files = await cached(dir);
    expect(files).toEqual([expect.stringMatching(new RegExp(`-${runtime}-none\\.v8$`))]);
    const file = path.join(dir, files[0] as string);
    const written = await stat(file);
    expect(written.size).toBeGreaterThan(10_000);

    const second = await runCli(['--version'], { bin, env });
    expect(second).toMatchObject({ code: 0, stdout: first.stdout, stderr: '' });
    expect((await stat(file)).mtimeMs).toBe(written.mtimeMs);
    expect(await cached(dir)).toEqual(files);
  });

  it('a run still going after 0.5 s writes its cache then, while it runs, and not again at its end', async () => {
    const dir = path.join(work, 'long');
    const env = {
      OFFLINE_CODE_CACHE: dir,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require=${lingering}`.trim(),
    };
    const run = await runCli(['--version'], { bin, env });
    expect(run).toMatchObject({ code: 0, stdout: `${toolVersion()}\n` });
    const seen = JSON.parse(run.stderr.replace(/^while running: /, '')) as {
      name: string;
      mtimeMs: number;
    }[];
    expect(seen).toEqual([
      { name: expect.stringMatching(new RegExp(`-${runtime}-none\\.v8$`)), mtimeMs: expect.any(Number) },
    ]);
    const file = path.join(dir, seen[0]?.name as string);
    expect((await stat(file)).mtimeMs).toBe(seen[0]?.mtimeMs);
    expect((await stat(file)).size).toBeGreaterThan(10_000);
  });

  it('a cache V8 rejects (damaged, or from another build) is ignored and written anew', async () => {
    const dir = path.join(work, 'damaged');
    const env = { OFFLINE_CODE_CACHE: dir };
    await runCli(['--version'], { bin, env });
    const file = path.join(dir, (await cached(dir))[0] as string);
    const garbage = Buffer.alloc(4096, 0x5a);
    await writeFile(file, garbage);
    const run = await runCli(['--version'], { bin, env });
    expect(run).toMatchObject({ code: 0, stdout: `${toolVersion()}\n`, stderr: '' });
    const rewritten = await readFile(file);
    expect(rewritten.equals(garbage)).toBe(false);
    expect(rewritten.length).toBeGreaterThan(10_000);
  });

  it('gives the same result, error and exit code as the source, with the cache off or unwritable', async () => {
    const missing = path.join(work, 'nothing-here.offline.tar.gz');
    const args = ['verify', missing, '--json'];
    const fromSource = await runCli(args);
    expect(fromSource.code).toBeGreaterThan(0);
    // Unwritable four ways: off; a folder mkdir cannot make (/proc, where a recursive mkdir never ends); a path
    // through a plain file (even removing the temp file fails there, ENOTDIR); a cache name a folder already
    // takes, so the temp file is written and its rename fails.
    const blocked = path.join(work, 'blocked');
    const source = extractCli(await readFile(bin, 'latin1')) ?? '';
    const taken = codeCacheFile(createHash('sha256').update(source).digest('hex'), args, {
      OFFLINE_CODE_CACHE: blocked,
    }) as string;
    await mkdir(path.join(taken, 'inside'), { recursive: true });
    const aFile = path.join(work, 'a-file');
    await writeFile(aFile, 'not a folder\n');
    for (const setting of ['off', '/proc/offline-cannot-write-here', path.join(aFile, 'cache'), blocked]) {
      const run = await runCli(args, { bin, env: { OFFLINE_CODE_CACHE: setting } });
      expect(run.code).toBe(fromSource.code);
      expect(run.json).toEqual(fromSource.json);
      expect(run.stderr).toBe(fromSource.stderr);
    }
    // The failed write left nothing behind, its temp file included, and did not touch the folder in the way.
    expect(await cached(blocked)).toEqual([path.basename(taken)]);
    expect(await cached(taken)).toEqual(['inside']);
  });

  it('on a Node older than 20.17 says so in one line, exit 1, before anything else, as a program or not', async () => {
    // Node 18 as the loader sees it: its version, and no process.getBuiltinModule (Node 20.16 added it).
    const oldNode = path.join(work, 'old-node.cjs');
    await writeFile(
      oldNode,
      [
        "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '18.19.1' } });",
        "Object.defineProperty(process, 'getBuiltinModule', { value: undefined });",
        '',
      ].join('\n'),
    );
    const env = { ...process.env, OFFLINE_CODE_CACHE: 'off', NODE_OPTIONS: `--require=${oldNode}` };
    for (const how of [[process.execPath, bin], [bin]]) {
      const [command, ...args] = [...how, '--version'];
      const run = await execFileAsync(command as string, args, { env }).then(
        () => ({ code: 0, stdout: '', stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(run).toMatchObject({ code: 1, stdout: '' });
      expect(run.stderr).toMatch(
        /^error: offline needs Node 20\.17 or later, and this is Node 18\.19\.1; .*import\.sh/,
      );
      expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
  });

  it('a copy that lost the CLI it carries says so in one line, exit 1', async () => {
    const text = await readFile(bin, 'latin1');
    const cut = path.join(work, 'offline.mjs');
    await writeFile(cut, text.slice(0, text.lastIndexOf(`function ${CARRIER}() {`)), 'latin1');
    const run = await runCli(['--version'], { bin: cut, env: { OFFLINE_CODE_CACHE: 'off' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: ${cut}: damaged, the CLI it carries is missing; copy offline.mjs again\n`,
    );
    // Named by its real path however it was run: through a symlink, by node and as a program.
    await chmod(cut, 0o755);
    const link = path.join(work, 'linked-offline.mjs');
    await symlink(cut, link);
    for (const how of [[process.execPath, link], [link]]) {
      const [command, ...args] = [...how, '--version'];
      const linked = await execFileAsync(command as string, args, {
        env: { ...process.env, OFFLINE_CODE_CACHE: 'off' },
      }).then(
        () => ({ stderr: '' }),
        (error: { stderr: string }) => error,
      );
      expect(linked.stderr).toBe(
        `error: ${cut}: damaged, the CLI it carries is missing; copy offline.mjs again\n`,
      );
    }
  });
});
