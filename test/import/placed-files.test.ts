import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { startStack } from '../../src/import/compose-start.js';
import { stageEnvFile } from '../../src/import/made-files.js';
import { StagedFiles } from '../../src/import/staged-files.js';
import { baseManifest, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { uniqueName } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

const listed = (...paths: string[]) => paths.map((p) => ({ path: p, size: 1, sha256: '0'.repeat(64) }));

function manifest(extra: Partial<BundleManifest>): BundleManifest {
  return {
    ...baseManifest('placed', '1.0.0', new Date('2026-01-01T00:00:00Z')),
    files: listed('stack/docker-compose.yml', 'stack/.env.example', 'images/images.tar'),
    ...extra,
  };
}

/** A target as an import leaves it: the stack's files at its top. */
async function placedTarget(): Promise<string> {
  const target = path.join(await tempDir(), 'target');
  await mkdir(target);
  await writeFile(path.join(target, 'docker-compose.yml'), 'services: {}\n');
  await writeFile(path.join(target, '.env.example'), 'SECRET_KEY=\nMODE=prod\n');
  return target;
}

/** The .env as an import places it (staged, then committed): where it went, or undefined. */
async function createEnvFile(m: BundleManifest, target: string): Promise<string | undefined> {
  const staged = new StagedFiles(target);
  try {
    const env = await stageEnvFile(m, target, staged, new Map());
    await staged.commit('stamp');
    return env;
  } finally {
    await staged.discard();
  }
}

describe('the .env: its template is a file the bundle lists, inside the target', () => {
  it.each([
    ['a path out of the target, not listed', '../../../../../../../../etc/passwd', listed()],
    [
      'a path out of the target, even when listed',
      '../../../../etc/passwd',
      listed('../../../../etc/passwd'),
    ],
    ['an image archive (never placed in the target)', 'images/images.tar', listed()],
    ['a stack file the bundle does not list', 'stack/other.env', listed()],
  ])('refuses %s: EUNSAFE_PATH naming it, no .env', async (_what, template, extraFiles) => {
    const target = await placedTarget();
    const m = manifest({ env: { template, generate: {} } });
    m.files.push(...extraFiles);
    await expect(createEnvFile(m, target)).rejects.toMatchObject({
      code: 'EUNSAFE_PATH',
      message: expect.stringContaining(`"${template}"`),
    });
    expect(existsSync(path.join(target, '.env'))).toBe(false);
  });

  it('fills a listed template into .env, and leaves an existing .env alone', async () => {
    const target = await placedTarget();
    const m = manifest({
      env: { template: 'stack/.env.example', generate: { SECRET_KEY: { kind: 'hex', bytes: 16 } } },
    });
    expect(await createEnvFile(m, target)).toBe(path.join(target, '.env'));
    expect(await readFile(path.join(target, '.env'), 'utf8')).toMatch(
      /^SECRET_KEY=[0-9a-f]{32}\nMODE=prod\n$/,
    );
    await writeFile(path.join(target, '.env'), 'SECRET_KEY=mine\n');
    expect(await createEnvFile(m, target)).toBeUndefined();
    expect(await readFile(path.join(target, '.env'), 'utf8')).toBe('SECRET_KEY=mine\n');
  });
});

describe('startStack: the compose file is a file the bundle lists, inside the target', () => {
  /** A `docker` on PATH that says it is compose v2 and logs each command line it gets, with its folder. */
  async function fakeDocker(): Promise<string> {
    const bin = await tempDir();
    const log = path.join(bin, 'calls.log');
    await writeFile(
      path.join(bin, 'docker'),
      `#!/bin/sh\necho "$(pwd) $*" >> "${log}"\n[ "$2" = version ] && echo 2.20.0\nexit 0\n`,
    );
    await chmod(path.join(bin, 'docker'), 0o755);
    vi.stubEnv('PATH', `${bin}:${process.env.PATH}`);
    return log;
  }

  it.each([
    ['out of the target', '../../../../tmp/evil-compose.yml'],
    ['not listed', 'stack/other-compose.yml'],
  ])('refuses a compose file %s (EUNSAFE_PATH) and runs nothing', async (_what, file) => {
    const log = await fakeDocker();
    const target = await placedTarget();
    const m = manifest({ compose: { file, profiles: [] } });
    await expect(startStack(m, target)).rejects.toMatchObject({
      code: 'EUNSAFE_PATH',
      message: expect.stringContaining(`"${file}"`),
    });
    expect(existsSync(log)).toBe(false);
  });

  it('runs up -d with the placed compose file, in the target', async () => {
    const log = await fakeDocker();
    const target = await placedTarget();
    const command = await startStack(manifest({}), target);
    expect(command).toBe('docker compose -p placed -f docker-compose.yml up -d --no-build --pull never');
    expect((await readFile(log, 'utf8')).trim().split('\n').at(-1)).toBe(
      `${target} compose -p placed -f docker-compose.yml up -d --no-build --pull never`,
    );
  });
});

describe('import: the paths the manifest names for later steps are checked before any file is placed', () => {
  it.each([
    [
      'env.template',
      (m: Omit<BundleManifest, 'files'>) => ({ ...m, env: { template: '../../etc/passwd', generate: {} } }),
    ],
    [
      'compose.file',
      (m: Omit<BundleManifest, 'files'>) => ({ ...m, compose: { file: '../evil.yml', profiles: [] } }),
    ],
  ])('a bad %s: EUNSAFE_PATH, exit 3, the target left empty', async (field, change) => {
    const fixture = await makeBundle({
      name: uniqueName('placed'),
      files: { 'stack/docker-compose.yml': 'services: {}\n', 'stack/.env.example': 'A=\n' },
      manifest: change,
    });
    try {
      const target = await tempDir();
      const result = await runCli(['import', fixture.archive, '--target', target, '--json']);
      expect(result.code, result.stderr).toBe(3);
      expect((result.json as { error: { code: string; file: string } }).error).toMatchObject({
        code: 'EUNSAFE_PATH',
        file: `manifest.json ${field}`,
      });
      expect(await readdir(target)).toEqual([]);
    } finally {
      await fixture.cleanup();
    }
  });
});
