import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { COMPOSE_PLUGIN, COMPOSE_STANDALONE_V2, COMPOSE_V1 } from '../../src/compose/detect-tool.js';
import { startCommands, startStack } from '../../src/import/compose-start.js';
import { baseManifest } from '../support/bundle-fixture.js';
import { fakeCompose } from '../support/fake-compose.js';
import { tempDir } from '../support/temp-dir.js';

// The command `offline import --start` runs: `--pull never` for every compose v2 (the docker compose plugin or a
// standalone docker-compose 2.x, the static binary air-gapped hosts often have), never for docker-compose 1.x,
// which refuses it.

const manifest: BundleManifest = {
  ...baseManifest('stk', '1.0.0', new Date('2026-01-01T00:00:00Z')),
  compose: { file: 'stack/docker-compose.yml', profiles: ['web', 'a b'] },
  files: [{ path: 'stack/docker-compose.yml', size: 0, sha256: 'e3b0'.padEnd(64, '0') }],
};
const SCOPE = '-p stk -f docker-compose.yml --profile web --profile a b';

/** startStack on a target holding the compose file, with a fake docker-compose of `version` first on PATH. */
async function startWith(version: string, override?: string): Promise<{ command: string; calls: string[] }> {
  const fake = await fakeCompose(version);
  const target = await tempDir();
  await writeFile(path.join(target, 'docker-compose.yml'), '');
  vi.stubEnv('PATH', `${fake.bin}:${process.env.PATH}`);
  const command = await startStack(manifest, target, override && path.join(target, override));
  return { command, calls: (await fake.calls()).filter((c) => !c.startsWith('version')) };
}

describe('startStack', () => {
  it('passes --pull never to a standalone docker-compose 2.x', async () => {
    const { command, calls } = await startWith('2.24.6');
    expect(calls).toEqual([`${SCOPE} up -d --no-build --pull never`]);
    expect(command).toBe(`docker-compose ${SCOPE} up -d --no-build --pull never`);
  });

  it('passes no --pull to docker-compose 1.x', async () => {
    const { calls } = await startWith('1.29.2');
    expect(calls).toEqual([`${SCOPE} up -d --no-build`]);
  });

  it('pulls first with a registry override, then up with --pull never on a docker-compose 2.x', async () => {
    const { calls } = await startWith('2.24.6', 'docker-compose.registry.yml');
    const scope = SCOPE.replace('docker-compose.yml', 'docker-compose.yml -f docker-compose.registry.yml');
    expect(calls).toEqual([`${scope} pull`, `${scope} up -d --no-build --pull never`]);
  });
});

describe('startCommands', () => {
  const scope = { project: 'p', files: ['c.yml'], profiles: ['x'] };
  it('prefixes compose for the plugin and gives every v2 --pull never, v1 none', () => {
    expect(startCommands(COMPOSE_PLUGIN, scope, false)).toEqual([
      ['compose', '-p', 'p', '-f', 'c.yml', '--profile', 'x', 'up', '-d', '--no-build', '--pull', 'never'],
    ]);
    expect(startCommands(COMPOSE_STANDALONE_V2, scope, false)).toEqual([
      ['-p', 'p', '-f', 'c.yml', '--profile', 'x', 'up', '-d', '--no-build', '--pull', 'never'],
    ]);
    expect(startCommands(COMPOSE_V1, scope, true)).toEqual([
      ['-p', 'p', '-f', 'c.yml', '--profile', 'x', 'pull'],
      ['-p', 'p', '-f', 'c.yml', '--profile', 'x', 'up', '-d', '--no-build'],
    ]);
  });
});
