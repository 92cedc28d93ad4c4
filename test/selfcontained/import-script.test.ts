import { execFileSync } from 'node:child_process';
import {
  access,
  appendFile,
  chmod,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BundleManifest, type GeneratedValue, parseManifest } from '../../src/bundle/manifest.js';
import { COMPOSE_V1 } from '../../src/compose/detect-tool.js';
import { composeUpCommand } from '../../src/compose/up-command.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { fillEnvTemplate } from '../../src/import/env-file.js';
import { envFunctions, renderImportScript, secretCommand } from '../../src/selfcontained/import-script.js';
import { baseManifest, extractFixture, type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { removeComposeProject, removeImages } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';
import { CL100K, webCompose, webImage, webManifest } from '../support/web-stack.js';
import { runClean } from './clean-env.js';

const plain = baseManifest('plain', '1.0.0', new Date('2026-01-01T00:00:00Z'));
const rich: Omit<BundleManifest, 'files'> = {
  ...baseManifest('rich', '2.0.0', new Date('2026-01-01T00:00:00Z')),
  compose: { file: "stack/it's compose.yml", profiles: ['a b', 'worker'] },
  archives: [
    { path: 'images/images.tar', kind: 'images', images: [] },
    { path: 'caches/build-cache.tar', kind: 'build-cache', images: [] },
  ],
  env: {
    template: 'stack/.env.example',
    generate: { HEX: { kind: 'hex', bytes: 16 }, B64: { kind: 'base64', bytes: 24 }, ID: { kind: 'uuid' } },
  },
  tiktoken: {
    dir: 'tiktoken',
    entries: [{ encoding: 'cl100k_base', url: 'u', file: 'tiktoken/x', sha256: 'a'.repeat(64), size: 1 }],
  },
};

async function syntaxCheck(script: string): Promise<void> {
  const file = path.join(await tempDir(), 'import.sh');
  await writeFile(file, script);
  execFileSync('/bin/dash', ['-n', file]);
}

/** A generated value of `spec`'s kind, as a pattern. */
function generated(spec: GeneratedValue): string {
  if (spec.kind === 'uuid') return '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}';
  if (spec.kind === 'hex') return `[0-9a-f]{${spec.bytes * 2}}`;
  return `[A-Za-z0-9+/]{${Math.ceil(spec.bytes / 3) * 4 - 2}}[A-Za-z0-9+/=]{2}`;
}

/** The text with each generated value (a whole `KEY=value` line) written as KEY=<generated>, to compare. */
function maskGenerated(text: string, generate: Record<string, GeneratedValue>): string {
  let masked = text;
  for (const [key, spec] of Object.entries(generate)) {
    masked = masked.replace(new RegExp(`^${key}=${generated(spec)}$`, 'gm'), `${key}=<generated>`);
  }
  return masked;
}

describe('import.sh', () => {
  it('is valid POSIX sh (dash -n) for a bare bundle and for one with every option', async () => {
    await syntaxCheck(renderImportScript(plain));
    await syntaxCheck(renderImportScript(rich));
  });

  it('quotes names for sh, passes every profile, loads the build cache, fills every generated key', () => {
    const script = renderImportScript(rich);
    expect(composeUpCommand(rich, COMPOSE_V1)).toBe(
      `docker-compose -p rich -f 'it'\\''s compose.yml' --profile 'a b' --profile worker up -d --no-build`,
    );
    expect(script).toContain('docker load -i caches/build-cache.tar');
    for (const key of ['HEX', 'B64', 'ID']) expect(script).toContain(`done_${key}=1`);
    expect(script).toContain('export TIKTOKEN_CACHE_DIR="$TARGET"/tiktoken');
    expect(renderImportScript(plain)).not.toContain('TIKTOKEN_CACHE_DIR');
  });

  it('refuses an env key that is not a variable name (EMANIFEST)', () => {
    const bad = {
      ...rich,
      env: { template: 'stack/.env.example', generate: { 'A;rm': { kind: 'uuid' as const } } },
    };
    expect(() => renderImportScript(bad)).toThrow(expect.objectContaining({ code: 'EMANIFEST' }));
  });

  it('generates secrets of the asked kind and size with coreutils only', () => {
    const run = (spec: Parameters<typeof secretCommand>[0]) =>
      execFileSync('/bin/dash', ['-c', secretCommand(spec)], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
      });
    expect(run({ kind: 'hex', bytes: 32 })).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(run({ kind: 'base64', bytes: 24 }), 'base64')).toHaveLength(24);
    expect(run({ kind: 'uuid' }).trim()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(run({ kind: 'hex', bytes: 32 })).not.toBe(run({ kind: 'hex', bytes: 32 }));
  });

  it('uses no cp -n (coreutils 9.2-9.4 exit 1 when it skips a file)', () => {
    const commands = renderImportScript(rich)
      .split('\n')
      .filter((line) => !/^\s*#/.test(line));
    expect(commands.filter((line) => /\bcp\b.* -[A-Za-z]*n\b/.test(line))).toEqual([]);
  });

  it('makes .env by the rules of offline import (env-file.ts), line for line', async () => {
    const generate: Record<string, GeneratedValue> = {
      SECRET_KEY: { kind: 'hex', bytes: 32 },
      TOKEN: { kind: 'base64', bytes: 24 },
      ID: { kind: 'uuid' },
    };
    const templates = [
      'SECRET_KEY=ChangeMe\nTOKEN=\nID=\n',
      'export SECRET_KEY=\nexport TOKEN=<your token>\nexport ID=mine\n',
      'SECRET_KEY=\r\nMODE=prod\r\n',
      'SECRET_KEY=ChangeMe\r\nMODE=prod\r\n',
      'MODE=prod\r\nTOKEN=mine\r\n',
      'SECRET_KEY=change\rme\r\nID=\r',
      ' \tSECRET_KEY = change-ME \t\nTOKEN=""\nID=\'\'\n',
      'SECRET_KEY=mine\nMODE=a=b\n# TOKEN=\nexportID=\n',
      'SECRET_KEY=\nSECRET_KEY=changeme\n',
      'MODE=prod',
      'SECRET_KEY=',
      '',
      '\ufeffSECRET_KEY=\n',
      'SECRET_KEY=<a> b\nTOKEN=change me\nID= \\x\n',
    ];
    const dir = await tempDir();
    const script = path.join(dir, 'make-env.sh');
    await writeFile(script, [...envFunctions(generate), 'make_env "$1"', ''].join('\n'));
    for (const [i, template] of templates.entries()) {
      const file = path.join(dir, `template-${i}`);
      await writeFile(file, template);
      const made = execFileSync('/bin/dash', [script, file], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
      });
      const expected = maskGenerated(fillEnvTemplate(template, generate), generate);
      expect(maskGenerated(made, generate), JSON.stringify(template)).toBe(expected);
    }
    // A CRLF template: its placeholder replaced in place, its line ends kept, an appended key with one too.
    expect(
      fillEnvTemplate('SECRET_KEY=ChangeMe\r\nMODE=prod\r\n', {
        SECRET_KEY: generate.SECRET_KEY as GeneratedValue,
      }),
    ).toMatch(/^SECRET_KEY=[0-9a-f]{64}\r\nMODE=prod\r\n$/);
    expect(fillEnvTemplate('MODE=prod\r\n', { ID: { kind: 'uuid' } })).toMatch(
      /^MODE=prod\r\nID=[0-9a-f-]{36}\r\n$/,
    );
  });
});

// import.sh run under dash against the real engine, on bundles made with it (bundle-fixture + the script).
describe('sh import.sh on a bundle, with the real engine', () => {
  let engine: DockerEngine;
  let project: string;
  let image: string;
  let fixture: Fixture;
  const template = 'export SECRET_KEY=ChangeMe\nMODE=prod\n';
  const generate: Record<string, GeneratedValue> = { SECRET_KEY: { kind: 'hex', bytes: 32 } };
  const shape = (m: Omit<BundleManifest, 'files'>) => webManifest(m, image, generate);

  beforeAll(async () => {
    ({ engine, project, image } = await webImage('importsh'));
    // import.sh depends on the manifest without files[]: made from the same manifest the bundle gets (checked).
    const head = shape({
      ...baseManifest(project, '1.0.0', new Date('2026-01-01T00:00:00Z')),
      archives: [{ path: 'images/images.tar', kind: 'images', images: [] }],
      tiktoken: {
        dir: 'tiktoken',
        entries: [{ encoding: 'cl100k_base', url: 'u', file: `tiktoken/${CL100K}`, sha256: '', size: 0 }],
      },
    });
    const script = renderImportScript(head);
    fixture = await makeBundle({
      name: project,
      engine,
      images: [image],
      files: {
        'import.sh': script,
        // The cache mounted from TIKTOKEN_CACHE_DIR, which the start command must set.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: compose syntax, not a JS template
        'stack/docker-compose.yml': webCompose(image, '${TIKTOKEN_CACHE_DIR:?set TIKTOKEN_CACHE_DIR}'),
        'stack/.env.example': template,
      },
      tiktoken: { cl100k_base: 'IQ== 0\n' },
      manifest: (m) => {
        const shaped = shape(m);
        if (renderImportScript(shaped) !== script) throw new Error('import.sh made from another manifest');
        return shaped;
      },
    });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const roots: string[] = [];
  afterEach(async () => {
    removeComposeProject(project);
    await removeImages(engine, [image]);
    await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
  });

  /** A fresh extraction of the bundle (removed after the test), and a folder beside it to run from. */
  async function extract(): Promise<{ dir: string; beside: string }> {
    const { root, dir } = await extractFixture(fixture);
    roots.push(root);
    const beside = path.join(root, 'beside');
    await mkdir(beside);
    return { dir, beside };
  }

  const importSh = (cwd: string, args: string[], dirs = '/usr/bin:/bin') =>
    runClean('/bin/dash', args, { cwd, path: dirs });

  async function running(): Promise<string[]> {
    return (await engine.listContainers(`com.docker.compose.project=${project}`)).map((c) => c.state);
  }

  it('prints one start command (every profile, TIKTOKEN_CACHE_DIR, the installed compose) and --start runs it', async () => {
    const { dir } = await extract();
    const run = await importSh(dir, ['import.sh']);
    expect(run.code, run.stderr).toBe(0);
    const hint = /Start it with this command.*\n {2}(.*)\n/.exec(run.stderr)?.[1] as string;
    expect(hint).toContain(`cd '${dir}/stack' && TIKTOKEN_CACHE_DIR='${dir}/stack/tiktoken' docker`);
    expect(hint).toContain('--profile web up -d --no-build');
    // Pasted as printed, from anywhere, in a shell without TIKTOKEN_CACHE_DIR: the profiled service starts.
    execFileSync('/bin/dash', ['-c', hint], {
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', DOCKER_HOST: process.env.DOCKER_HOST },
      stdio: 'pipe',
    });
    expect(await running()).toEqual(['running']);
    removeComposeProject(project);
    const start = await importSh(dir, ['import.sh', '--start']);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stderr).toContain(`5/5 starting the stack: ${hint}\n`);
    expect(await running()).toEqual(['running']);
  });

  it('runs again in place and into a TARGET, with a cp -n that fails on a skipped file (coreutils 9.2-9.4)', async () => {
    const { dir, beside } = await extract();
    const bin = await tempDir();
    const realCp = execFileSync('/bin/sh', ['-c', 'command -v cp'], { encoding: 'utf8' }).trim();
    // As coreutils 9.2-9.4 do: cp -n exits 1 when it skipped a file that exists (here: cp -i told "no").
    await writeFile(
      path.join(bin, 'cp'),
      [
        '#!/bin/sh',
        'n=0',
        'for a in "$@"; do shift; if [ "$a" = -n ]; then n=1; set -- "$@" -i; else set -- "$@" "$a"; fi; done',
        `[ "$n" = 1 ] || exec ${realCp} "$@"`,
        `err=$(${realCp} "$@" 2>&1 </dev/null) || exit`,
        'case "$err" in *overwrite*) echo "cp: skipped a file (-n)" >&2; exit 1 ;; esac',
        '',
      ].join('\n'),
    );
    await chmod(path.join(bin, 'cp'), 0o755);
    const dirs = `${bin}:/usr/bin:/bin`;
    for (const round of [1, 2]) {
      const run = await importSh(dir, ['import.sh'], dirs);
      expect(run.code, `in place, run ${round}: ${run.stderr}`).toBe(0);
    }
    const target = path.join(path.dirname(dir), 'site');
    for (const round of [1, 2]) {
      const run = await importSh(beside, [path.join(dir, 'import.sh'), target], dirs);
      expect(run.code, `into ${target}, run ${round}: ${run.stderr}`).toBe(0);
    }
    await access(path.join(target, 'tiktoken', CL100K));
  });

  it('refuses a TARGET inside the bundle folder other than stack/, before loading anything', async () => {
    const { dir, beside } = await extract();
    await removeImages(engine, [image]);
    const before = (await readdir(dir)).sort();
    await mkdir(path.join(dir, 'stack', 'sub'));
    for (const [cwd, target] of [
      [dir, '.'],
      [dir, 'new'],
      [dir, 'stack/sub'],
      [dir, 'stack/../images'],
      [beside, `../${path.basename(dir)}`],
    ] as const) {
      const run = await importSh(cwd, [path.join(dir, 'import.sh'), target]);
      expect(run.code, target).toBe(1);
      expect(run.stderr).toContain(`is inside the bundle folder ${dir}: give a folder outside it`);
      expect(run.stderr).not.toContain('1/5');
    }
    expect(await engine.inspectImage(image)).toBeUndefined();
    await rmdir(path.join(dir, 'stack', 'sub'));
    expect((await readdir(dir)).sort()).toEqual(before);
    // Its stack/ folder, named, is the default target.
    const run = await importSh(dir, ['import.sh', 'stack']);
    expect(run.code, run.stderr).toBe(0);
  });

  // busybox sh as root says `[ -w ]` on a read-only mount (dash and bash do not): import.sh must not ask it.
  // busybox-static's sh runs its own applets (sha256sum without --quiet) before any on PATH.
  it.each([
    ['dash', ['/bin/dash']],
    ['busybox sh', ['/bin/busybox', 'sh']],
  ])(
    'on read-only media (%s): refuses to place the stack in place before loading anything; a TARGET works',
    async (_name, shell) => {
      const { dir, beside } = await extract();
      await removeImages(engine, [image]);
      const readOnly = await tempDir();
      const target = path.join(beside, 'target');
      // A read-only bind mount in a private mount namespace (root): it ends with the command.
      const onReadOnly = (...args: string[]) =>
        runClean(
          'unshare',
          [
            '-m',
            '/bin/dash',
            '-c',
            'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && cd "$2/$3" && shift 3 && exec "$@"',
            'dash',
            path.dirname(dir),
            readOnly,
            path.basename(dir),
            ...shell,
            'import.sh',
            ...args,
          ],
          { cwd: beside, path: '/usr/bin:/bin:/usr/sbin:/sbin' },
        );
      for (const inPlace of [[], ['stack'], [path.join(readOnly, path.basename(dir), 'stack')]]) {
        const refused = await onReadOnly(...inPlace);
        expect(refused.code, refused.stderr).toBe(1);
        expect(refused.stderr).toContain('stack/ cannot be written (read-only media?): give a TARGET folder');
        expect(refused.stderr).not.toContain('1/5');
      }
      expect(await engine.inspectImage(image)).toBeUndefined();
      const placed = await onReadOnly(target);
      expect(placed.code, placed.stderr).toBe(0);
      expect(await readdir(target)).toContain('docker-compose.yml');
    },
  );

  /** Imports in place, then writes into stack/ what a running stack and its user leave there. */
  async function importedInPlace(dir: string): Promise<void> {
    const run = await importSh(dir, ['import.sh']);
    expect(run.code, run.stderr).toBe(0);
    const stack = path.join(dir, 'stack');
    await mkdir(path.join(stack, 'data'));
    await writeFile(path.join(stack, 'data', 'db.bin'), 'rows');
    await writeFile(path.join(stack, 'import-report.json'), '{}');
    await writeFile(path.join(stack, '.offline', 'state.json'), '{}');
  }

  it('into a new TARGET after an import in place: places only the listed files, and a .env of its own', async () => {
    const { dir, beside } = await extract();
    await importedInPlace(dir);
    const target = path.join(beside, 'site');
    const run = await importSh(beside, [path.join(dir, 'import.sh'), target]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(target)).sort()).toEqual([
      '.env',
      '.env.example',
      '.offline',
      'docker-compose.yml',
      'tiktoken',
    ]);
    expect(await readdir(path.join(target, '.offline'))).toEqual(['manifest.json']);
    expect(run.stderr).not.toContain('exists: left as it is');
    const env = await readFile(path.join(target, '.env'), 'utf8');
    expect(env).toMatch(/^SECRET_KEY=[0-9a-f]{64}\nMODE=prod\n$/);
    expect(env).not.toBe(await readFile(path.join(dir, 'stack', '.env'), 'utf8'));
  });

  it('after an import in place, ignores the links the stack made in stack/, not one on a listed path', async () => {
    const { dir, beside } = await extract();
    const socket = path.join(dir, 'stack', 'data', 'mysql.sock');
    const linked = `./stack/data/mysql.sock is a symbolic link`;
    // Before any import in place, every path under stack/ is the bundle's: a link there is refused.
    await mkdir(path.dirname(socket));
    await symlink('/run/mysqld/mysqld.sock', socket);
    const before = await importSh(dir, ['import.sh']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(linked);
    await rm(path.dirname(socket), { recursive: true });
    await importedInPlace(dir);
    await symlink('/run/mysqld/mysqld.sock', socket);
    const target = path.join(beside, 'site');
    for (const args of [['import.sh'], ['import.sh', target]]) {
      const run = await importSh(dir, args);
      expect(run.code, run.stderr).toBe(0);
    }
    expect(await readdir(target)).not.toContain('data');
    // The manifest copy of another import: the whole tree is checked again.
    const copy = path.join(dir, 'stack', '.offline', 'manifest.json');
    await appendFile(copy, ' ');
    const other = await importSh(dir, ['import.sh']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(linked);
    await writeFile(copy, await readFile(path.join(dir, 'manifest.json')));
    // A listed file turned into a link is still refused.
    const example = path.join(dir, 'stack', '.env.example');
    await rename(example, path.join(beside, '.env.example'));
    await symlink(path.join(beside, '.env.example'), example);
    const listed = await importSh(dir, ['import.sh']);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain('./stack/.env.example is a symbolic link');
    expect(listed.stderr).not.toContain('1/5');
  });

  it('keeps the manifest as .offline/manifest.json and makes .env as offline import does', async () => {
    const { dir, beside } = await extract();
    const target = path.join(path.dirname(dir), 'site');
    for (const [cwd, args, where] of [
      [dir, ['import.sh'], path.join(dir, 'stack')],
      [beside, [path.join(dir, 'import.sh'), '../site'], target],
    ] as const) {
      const run = await importSh(cwd, [...args]);
      expect(run.code, run.stderr).toBe(0);
      const copy = await readFile(path.join(where, '.offline/manifest.json'), 'utf8');
      expect(copy).toBe(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
      expect(parseManifest(copy, 'copy')).toEqual(fixture.manifest);
      const env = await readFile(path.join(where, '.env'), 'utf8');
      expect(maskGenerated(env, generate)).toBe(maskGenerated(fillEnvTemplate(template, generate), generate));
      expect(env).toMatch(/^SECRET_KEY=[0-9a-f]{64}\nMODE=prod\n$/);
    }
  });
});
