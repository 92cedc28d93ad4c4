import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { IMAGES_ARCHIVE } from '../../src/bundle/layout.js';
import { type Fixture, flipEntryByte, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';

/** No engine answers here: verify must not need one. */
const noDocker = { DOCKER_HOST: 'unix:///nonexistent.sock' };

const made: Fixture[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((f) => f.cleanup()));
});

async function bundle(): Promise<Fixture> {
  const fixture = await makeBundle({
    files: { 'stack/docker-compose.yml': 'services: {}\n', [IMAGES_ARCHIVE]: randomBytes(300_000) },
    tiktoken: { cl100k_base: 'IQ== 0\n' },
  });
  made.push(fixture);
  return fixture;
}

describe('offline verify with no Docker engine reachable', () => {
  it('exit 0 on a good bundle', async () => {
    const fixture = await bundle();
    const result = await runCli(['verify', fixture.archive, '--json'], { env: noDocker });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ ok: true });
  });

  it('exit 3 naming the damaged file', async () => {
    const fixture = await bundle();
    await flipEntryByte(fixture, IMAGES_ARCHIVE);
    const result = await runCli(['verify', fixture.archive, '--json'], { env: noDocker });
    expect(result.code, result.stderr).toBe(3);
    expect(result.json).toMatchObject({ ok: false, error: { code: 'EINTEGRITY', file: IMAGES_ARCHIVE } });
  });
});
