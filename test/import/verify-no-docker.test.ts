import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { IMAGES_ARCHIVE } from '../../src/bundle/layout.js';
import { shQuote } from '../../src/selfcontained/sh-quote.js';
import { type Fixture, flipEntryByte, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';

const root = path.resolve(import.meta.dirname, '../..');

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

  it('on a terminal: one progress line redrawn in place while it reads, gone before the summary', async () => {
    // Uncompressed, so the read takes long enough (about 1 s here) for a few redraws 250 ms apart.
    const fixture = await makeBundle({
      compression: 'none',
      files: {
        'stack/docker-compose.yml': 'services: {}\n',
        [IMAGES_ARCHIVE]: Buffer.alloc(512 * 1024 * 1024),
      },
    });
    made.push(fixture);
    const command = [path.join(root, 'node_modules/.bin/tsx'), path.join(root, 'src/cli/main.ts')];
    // script(1) runs the command on a pseudo-terminal: stderr is a TTY, as in a user's shell.
    const { stdout } = await promisify(execFile)(
      'script',
      ['-qec', [...command, 'verify', fixture.archive].map(shQuote).join(' '), '/dev/null'],
      { env: { ...process.env, ...noDocker }, maxBuffer: 16 * 1024 * 1024 },
    );
    const name = path.basename(fixture.archive);
    const draws =
      stdout.match(new RegExp(`\r\x1b\\[Kreading ${name.replace(/\./g, '\\.')}: [^\r]*`, 'g')) ?? [];
    expect(draws.length, JSON.stringify(stdout)).toBeGreaterThan(0);
    expect(draws[0]).toMatch(/: [\d.]+ \w+ of 512 MiB \(\d+%\), [\d.]+ \w+\/s/);
    // The line is cleared before the summary, which starts a clean line.
    expect(stdout).toMatch(new RegExp(`\r\x1b\\[K${name.replace(/\./g, '\\.')}: 1 file\\(s\\) on the media`));
  });
});
