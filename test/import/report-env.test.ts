import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKSUMS_FILE } from '../../src/bundle/layout.js';
import type { ImportReport } from '../../src/import/report.js';
import { REPORT_FILE } from '../../src/import/target-layout.js';
import { extractFixture, type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { requireDocker, uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

// No images: the engine is only asked its version and its image list.
const fixtures: Fixture[] = [];

beforeAll(async () => {
  await requireDocker();
});

afterAll(async () => {
  await Promise.all(fixtures.map((f) => f.cleanup()));
});

async function bundle(options: Parameters<typeof makeBundle>[0] = {}): Promise<Fixture> {
  const fixture = await makeBundle({
    name: uniqueName('report'),
    files: {
      'stack/docker-compose.yml': 'services: {}\n',
      'stack/.env.example': 'SECRET_KEY=\nMODE=prod\n',
    },
    manifest: (m) => ({
      ...m,
      env: { template: 'stack/.env.example', generate: { SECRET_KEY: { kind: 'hex', bytes: 32 } } },
    }),
    ...options,
  });
  fixtures.push(fixture);
  return fixture;
}

async function importInto(fixture: Fixture, target: string, ...flags: string[]) {
  const result = await runCli(['import', fixture.archive, '--target', target, ...flags]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(await readFile(path.join(target, REPORT_FILE), 'utf8')) as ImportReport;
}

describe('import-report.json', () => {
  it('lists every file verified with the sha256 of checksums.sha256, and the tiktoken cache folder', async () => {
    const fixture = await bundle({
      tiktoken: { cl100k_base: 'IQ== 0\n', o200k_base: 'Ig== 1\n' },
    });
    const { root, dir } = await extractFixture(fixture);
    const checksums = await readFile(path.join(dir, CHECKSUMS_FILE), 'utf8');
    await rm(root, { recursive: true, force: true });
    const expected = Object.fromEntries(
      checksums
        .trim()
        .split('\n')
        .map((line) => {
          const [, sha256, file] = /^([0-9a-f]{64}) [ *](.+)$/.exec(line) ?? [];
          return [file, sha256];
        }),
    );
    expect(Object.keys(expected)).toContain('stack/docker-compose.yml');

    const target = await tempDir();
    const report = await importInto(fixture, target);
    expect(Object.fromEntries(report.verified.map((f) => [f.path, f.sha256]))).toEqual(expected);
    expect(report.verified).toHaveLength(Object.keys(expected).length);

    expect(report.tiktokenCacheDir).toBe(path.join(target, 'tiktoken'));
    expect(path.isAbsolute(report.tiktokenCacheDir as string)).toBe(true);
    const cached = fixture.manifest.tiktoken.entries.map((e) => path.basename(e.file)).sort();
    expect((await readdir(report.tiktokenCacheDir as string)).sort()).toEqual(cached);
  });

  it('has no tiktoken cache folder when the bundle has no tiktoken files', async () => {
    const report = await importInto(await bundle(), await tempDir());
    expect(report).not.toHaveProperty('tiktokenCacheDir');
  });
});

describe('.env', () => {
  it("an existing .env is the user's: never overwritten nor backed up, --force or not", async () => {
    const fixture = await bundle();
    const target = await tempDir();
    const first = await importInto(fixture, target);
    expect(first.env).toBe(path.join(target, '.env'));
    expect(await readFile(path.join(target, '.env'), 'utf8')).toMatch(
      /^SECRET_KEY=[0-9a-f]{64}\nMODE=prod\n$/,
    );

    // The user sets their own values, and changes a stack file (so --force is needed to import again).
    await writeFile(path.join(target, '.env'), 'SECRET_KEY=mine\n');
    await writeFile(path.join(target, 'docker-compose.yml'), '# my edit\n');
    const refused = await runCli(['import', fixture.archive, '--target', target, '--json']);
    expect((refused.json as { error: { code: string } }).error.code).toBe('EEXIST');
    const forced = await importInto(fixture, target, '--force');
    expect(forced.env).toBeUndefined();
    expect(await readFile(path.join(target, '.env'), 'utf8')).toBe('SECRET_KEY=mine\n');
    expect(forced.backups).toEqual([expect.stringMatching(/docker-compose\.yml\.bak-/)]);
    expect((await readdir(target)).filter((n) => n.startsWith('.env') && n !== '.env.example')).toEqual([
      '.env',
    ]);
    expect(await readFile(path.join(target, 'docker-compose.yml'), 'utf8')).toBe('services: {}\n');
  });
});
