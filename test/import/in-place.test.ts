import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.js';
import { extractFixture, type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { type CliResult, runCli } from '../support/cli.js';
import { dockerfileContext, removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

let engine: DockerEngine;
let image: string;
let fixture: Fixture;
const extracted: string[] = [];

beforeAll(async () => {
  const docker = await requireDocker();
  engine = docker.engine;
  const name = uniqueName('inplace');
  image = `offline-test/${name}:1`;
  await engine.buildImage(dockerfileContext(`FROM ${docker.baseImage}\nRUN echo ${name} > /in-place\n`), {
    tags: [image],
  });
  fixture = await makeBundle({
    name,
    engine,
    images: [image],
    files: {
      'stack/docker-compose.yml': `services:\n  web:\n    image: ${image}\n`,
      'README.txt': 'read me\n',
      'offline.mjs': '// the importer\n',
    },
  });
}, 120_000);

afterAll(async () => {
  await removeImages(engine, [image]);
  await fixture?.cleanup();
  await Promise.all(extracted.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh `tar x` of the bundle: the folder a user gets on the air-gapped host. */
async function extract(): Promise<string> {
  const { root: made, dir } = await extractFixture(fixture);
  extracted.push(made);
  return dir;
}

/** `offline import <dir>` with no --target: in place, into the folder's stack/. */
async function importInPlace(dir: string, ...flags: string[]): Promise<CliResult> {
  return runCli(['import', dir, '--json', ...flags]);
}

const errorOf = (result: CliResult) => (result.json as { error?: Record<string, unknown> }).error;

describe('import in place (an extracted bundle folder, its stack/ folder as the target)', () => {
  it('places the stack and the manifest copy, not the bundle own files, which stay next door', async () => {
    const dir = await extract();
    const result = await importInPlace(dir);
    expect(result.code, result.stderr).toBe(0);
    expect((await readdir(path.join(dir, 'stack/.offline'))).sort()).toEqual(['manifest.json']);
    expect((await readdir(path.join(dir, 'stack'))).sort()).toEqual([
      '.offline',
      'docker-compose.yml',
      'import-report.json',
    ]);
  });

  it('the folder imports again afterwards: elsewhere, and in place with what the stack wrote in stack/', async () => {
    const dir = await extract();
    expect((await importInPlace(dir)).code).toBe(0);
    // Elsewhere: the in-place import's outputs (report, manifest copy) are not the bundle's, nor unlisted.
    const elsewhere = await tempDir();
    const other = await runCli(['import', dir, '--target', elsewhere, '--json']);
    expect(other.code, other.stderr).toBe(0);
    expect(await readFile(path.join(elsewhere, 'docker-compose.yml'), 'utf8')).toContain(image);
    // The running stack writes in its folder (a bind-mounted data folder, a socket, a link).
    await mkdir(path.join(dir, 'stack/data'));
    await writeFile(path.join(dir, 'stack/data/db.sqlite'), 'rows\n');
    await symlink('/run/mysqld/mysqld.sock', path.join(dir, 'stack/data/mysql.sock'));
    const again = await importInPlace(dir);
    expect(again.code, again.stderr).toBe(0);
    expect((await runCli(['verify', dir])).code).toBe(0);
    // Outside stack/, the same files are still not the bundle's.
    await writeFile(path.join(dir, 'stray.txt'), 'x');
    expect(errorOf(await importInPlace(dir))).toMatchObject({ code: 'EUNLISTED', file: 'stray.txt' });
  });

  it('a stack file changed after an import in place is named as changed there, with no --force advice', async () => {
    const dir = await extract();
    expect((await importInPlace(dir)).code).toBe(0);
    const compose = path.join(dir, 'stack/docker-compose.yml');
    await writeFile(compose, `services:\n  web:\n    image: ${image}\n    ports: ["18099:80"]\n`);
    for (const flags of [[], ['--force']]) {
      const result = await importInPlace(dir, ...flags);
      expect(result.code, flags.join(' ')).toBe(3);
      const error = errorOf(result);
      expect(error).toMatchObject({ code: 'EBADSIZE', file: 'stack/docker-compose.yml' });
      expect(error?.message).toMatch(/changed in .*stack, where the stack runs in place/);
      expect(error?.hint).toMatch(/extract a fresh copy/);
      expect(error?.hint).not.toMatch(/--force/);
    }
    // The user's change is untouched.
    expect(await readFile(compose, 'utf8')).toContain('18099:80');
  });

  it('on a first import in place, a damaged stack file is damage (EINTEGRITY), and nothing is loaded', async () => {
    const dir = await extract();
    await removeImages(engine, [image]);
    const compose = path.join(dir, 'stack/docker-compose.yml');
    const text = await readFile(compose, 'utf8');
    await writeFile(compose, text.replace('web', 'wEb'));
    // A stray report (say, copied along) does not make the stack "in use": stray files are still found.
    await writeFile(path.join(dir, 'stack/import-report.json'), '{}');
    const result = await importInPlace(dir);
    expect(result.code).toBe(3);
    expect(errorOf(result)).toMatchObject({ code: 'EINTEGRITY', file: 'stack/docker-compose.yml' });
    expect(errorOf(result)?.message).not.toMatch(/changed in/);
    expect(await engine.inspectImage(image)).toBeUndefined();
    await writeFile(compose, text);
    await writeFile(path.join(dir, 'stack/stray.txt'), 'x');
    expect(errorOf(await importInPlace(dir))).toMatchObject({ code: 'EUNLISTED', file: 'stack/stray.txt' });
  });

  it('a file nobody listed is reported before any image is loaded', async () => {
    const dir = await extract();
    await removeImages(engine, [image]);
    await writeFile(path.join(dir, 'stack/extra.txt'), 'x');
    const result = await importInPlace(dir);
    expect(errorOf(result)).toMatchObject({ code: 'EUNLISTED', file: 'stack/extra.txt' });
    expect(result.stderr).not.toMatch(/loading into the engine/);
    expect(await engine.inspectImage(image)).toBeUndefined();
  });

  it('on read-only media: EUSAGE naming --target at once, and --target elsewhere works', async () => {
    const dir = await extract();
    await removeImages(engine, [image]);
    const readOnly = await tempDir();
    const target = await tempDir();
    const bundleName = path.basename(dir);
    const run = (...args: string[]) =>
      runCli(['import', path.join(readOnly, bundleName), '--json', ...args], {
        readOnly: { source: path.dirname(dir), at: readOnly },
      });
    const refused = await run();
    expect(refused.json, refused.stderr).toBeDefined();
    expect(refused.code, refused.stderr).toBe(2);
    expect(errorOf(refused)).toMatchObject({
      code: 'EUSAGE',
      file: path.join(readOnly, bundleName, 'stack'),
    });
    expect(errorOf(refused)?.hint).toMatch(/--target DIR/);
    expect(await engine.inspectImage(image)).toBeUndefined();
    const elsewhere = await run('--target', target);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(await readdir(target)).toContain('docker-compose.yml');
  });
});
