import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IMAGES_ARCHIVE } from '../../src/bundle/layout.js';
import { parseSize } from '../../src/bundle/size.js';
import {
  type Fixture,
  type FixtureOptions,
  flipEntryByte,
  makeBundle,
  truncateBundle,
} from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';

const made: Fixture[] = [];
async function bundle(options: FixtureOptions = {}): Promise<Fixture> {
  const fixture = await makeBundle({
    files: { 'stack/docker-compose.yml': 'services: {}\n', [IMAGES_ARCHIVE]: randomBytes(2_500_000) },
    tiktoken: { o200k_base: 'IQ== 0\n' },
    manifest: (m) => ({
      ...m,
      services: [{ name: 'api', image: 'api:1', built: true, healthcheck: true, profiles: [] }],
      images: [
        {
          id: `sha256:${'a'.repeat(64)}`,
          tags: ['api:1'],
          os: 'linux',
          architecture: 'amd64',
          size: 5 * 1024 ** 2,
          role: 'service',
          archive: IMAGES_ARCHIVE,
        },
      ],
    }),
    ...options,
  });
  made.push(fixture);
  return fixture;
}
afterEach(async () => {
  await Promise.all(made.splice(0).map((f) => f.cleanup()));
});

describe('offline verify', () => {
  it('exit 0 and --json lists every file verified and every part checked', async () => {
    const fixture = await bundle({ splitSize: parseSize('1M') });
    const result = await runCli(['verify', fixture.outDir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const json = result.json as { files: { path: string; sha256: string }[]; media: { file: string }[] };
    expect(json.files.map((f) => f.path).sort()).toEqual(
      [
        'README.txt',
        'manifest.json',
        ...fixture.manifest.files.map((f) => f.path).filter((p) => p !== 'README.txt'),
      ].sort(),
    );
    for (const file of fixture.manifest.files) {
      expect(json.files.find((f) => f.path === file.path)?.sha256).toBe(file.sha256);
    }
    expect(json.media.map((m) => m.file)).toEqual(fixture.parts);
    const text = await runCli(['verify', fixture.outDir]);
    expect(text.stdout).toMatch(
      new RegExp(
        `: ${fixture.parts.length} file\\(s\\) on the media match the sidecar; \\d+ bundle files \\(2\\.\\d MiB\\) verified, all good`,
      ),
    );
  });

  it('exit 3 naming the bad file, in text and in --json', async () => {
    const fixture = await bundle();
    await flipEntryByte(fixture, 'stack/docker-compose.yml');
    const text = await runCli(['verify', fixture.archive]);
    expect(text.code).toBe(3);
    expect(text.stderr).toContain('EINTEGRITY: stack/docker-compose.yml: sha256 differs');
    const json = await runCli(['verify', fixture.archive, '--json']);
    expect(json.code).toBe(3);
    expect(json.json).toMatchObject({
      ok: false,
      error: { code: 'EINTEGRITY', file: 'stack/docker-compose.yml' },
    });
  });

  it('exit 3 for a bundle truncated at the source; exit 3 for a missing bundle', async () => {
    const fixture = await bundle();
    await truncateBundle(fixture, Math.floor(fixture.size / 2), 'update');
    expect((await runCli(['verify', fixture.archive])).code).toBe(3);
    expect((await runCli(['verify', `${fixture.outDir}/nothing.offline.tar.gz`])).code).toBe(3);
  });
});

describe('offline inspect', () => {
  it('lists images with sizes, encodings, services and files', async () => {
    const fixture = await bundle();
    const result = await runCli(['inspect', fixture.archive]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('fixture 1.0.0');
    expect(result.stdout).toMatch(/api:1 +linux\/amd64 +5\.0 MiB/);
    expect(result.stdout).toContain('tiktoken (1): o200k_base');
    expect(result.stdout).toContain('services (1): api (built)');
    expect(result.stdout).toContain('stack/docker-compose.yml  13 B');
    expect(result.stdout).toContain('images/images.tar  2.4 MiB');
  });

  it('reads only the head: works on a bundle whose tail is cut, and --json carries the manifest', async () => {
    const fixture = await bundle();
    await truncateBundle(fixture, 4096, 'update');
    const result = await runCli(['inspect', fixture.archive, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({
      ok: true,
      manifest: { name: 'fixture', files: fixture.manifest.files },
    });
  });

  it('reads a split bundle from its first parts while the others are not copied yet', async () => {
    const fixture = await bundle({ splitSize: parseSize('1M') });
    const [first, ...rest] = fixture.parts;
    await Promise.all(rest.map((part) => rm(part)));
    const result = await runCli(['inspect', first as string, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({
      ok: true,
      parts: [first],
      absentParts: rest.map((part) => path.basename(part)),
      manifest: { name: 'fixture', files: fixture.manifest.files },
    });
    const text = await runCli(['inspect', fixture.outDir]);
    expect(text.stdout).toContain(
      `not here yet: ${path.basename(rest[0] as string)} and ${rest.length - 1} more`,
    );
  });

  it('names the first missing part when the head goes on into it, and a damaged part as itself (exit 3)', async () => {
    const fixture = await bundle({ splitSize: 512 });
    const [first, second, ...rest] = fixture.parts;
    await Promise.all([second, ...rest].map((part) => rm(part as string)));
    const missing = await runCli(['inspect', fixture.outDir, '--json']);
    expect(missing.code).toBe(3);
    expect(missing.json).toMatchObject({
      error: { code: 'EMISSING', file: path.basename(second as string) },
    });
    const bytes = await readFile(first as string);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    await writeFile(first as string, bytes);
    const damaged = await runCli(['inspect', fixture.outDir, '--json']);
    expect(damaged.code).toBe(3);
    expect(damaged.json).toMatchObject({
      error: { code: 'EINTEGRITY', file: path.basename(first as string) },
    });
  });

  it.each(['gzip', 'zstd', 'none'] as const)(
    'without the sidecar, a split %s bundle that breaks off where its first part ends asks for its later parts (exit 3)',
    async (compression) => {
      const fixture = await bundle({ splitSize: 512, compression });
      const [first, ...rest] = fixture.parts;
      const name = path.basename(first as string);
      await Promise.all([...rest, `${fixture.archive}.sha256`].map((file) => rm(file)));
      for (const command of ['inspect', 'verify']) {
        const result = await runCli([command, fixture.outDir, '--json']);
        expect(result.code, result.stderr).toBe(3);
        expect(result.json).toMatchObject({
          error: {
            code: 'EINTEGRITY',
            hint: expect.stringContaining(`breaks off where ${name} ends: copy its later parts`),
          },
        });
      }
    },
  );

  it('without the sidecar, every part here and the last one damaged at its end: a copy to make again, not parts to add', async () => {
    const fixture = await bundle({ splitSize: 512 });
    await rm(`${fixture.archive}.sha256`);
    const last = fixture.parts.at(-1) as string;
    const bytes = await readFile(last);
    // gzip's trailer: the CRC-32 of what was inflated, checked once all of it was read.
    bytes[bytes.length - 6] = (bytes[bytes.length - 6] ?? 0) ^ 0xff;
    await writeFile(last, bytes);
    const result = await runCli(['verify', fixture.outDir, '--json']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.json).toMatchObject({
      error: {
        code: 'EINTEGRITY',
        hint: `copy the bundle again, with ${path.basename(fixture.archive)}.sha256 to check the copy`,
      },
    });
  });

  it('exit 3 when manifest.json is damaged', async () => {
    const fixture = await bundle();
    await flipEntryByte(fixture, 'manifest.json', 30);
    const result = await runCli(['inspect', fixture.archive, '--json']);
    expect(result.code).toBe(3);
    expect(result.json).toMatchObject({ error: { code: 'EINTEGRITY', file: 'manifest.json' } });
  });
});
