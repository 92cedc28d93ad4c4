import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import type { Compression } from '../../src/bundle/layout.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { finalizeStep, type PackedBundle, packedFiles, packStep } from '../../src/export/finish.js';
import { assertOutputFree } from '../../src/export/output-files.js';
import { newExportState } from '../../src/export/state.js';
import { tempDir } from '../support/temp-dir.js';
import { optionsFor } from './support/state.js';

// finalizeStep's importers (offline.mjs is built with esbuild from a checkout) are not what these tests are about.
vi.mock('../../src/selfcontained/stage-importers.js', () => ({
  stageImporters: async (_dir: string, manifest: unknown) => manifest,
}));

const run = promisify(execFile);
const ARCHIVE = 'demo-1.0.0.offline.tar';
const PART = 4096;

/**
 * packStep with --force into the same --out, no engine needed. Compression none keeps sizes exact: one file of
 * n bytes packs to 512 (header) + n rounded up to 512 + 1024 (end of archive) bytes.
 */
async function exportWith(
  out: string,
  payload: number,
  splitSize: number | undefined,
  compression: Compression = 'none',
): Promise<{ packed: PackedBundle; content: Buffer }> {
  const staging = await tempDir();
  await mkdir(path.join(staging, 'images'));
  const content = randomBytes(payload);
  await writeFile(path.join(staging, 'images/images.tar'), content);
  const options = optionsFor(staging, 'demo', {
    outDir: out,
    compression,
    force: true,
    ...(splitSize !== undefined && { splitSize }),
  });
  const state = newExportState(
    options,
    undefined as unknown as DockerEngine,
    staging,
    new AbortController().signal,
    () => {},
  );
  return { packed: await packStep(state, () => {}), content };
}

/** The images.tar inside what is in `out` now: the archive, or the parts joined (as a user would, with cat). */
async function unpacked(out: string, names: string[]): Promise<Buffer> {
  const dir = await tempDir();
  const joined = path.join(dir, 'joined.tar');
  const pieces = names.filter((n) => n === ARCHIVE || n.startsWith(`${ARCHIVE}.part`)).sort();
  await writeFile(joined, Buffer.concat(await Promise.all(pieces.map((n) => readFile(path.join(out, n))))));
  await run('tar', ['-xf', joined, '-C', dir]);
  return readFile(path.join(dir, 'demo-1.0.0/images/images.tar'));
}

/** --out holds exactly the new bundle's files, its sidecar names exactly them, and they hold the new bundle. */
async function expectOnlyNew(out: string, packed: PackedBundle, content: Buffer): Promise<void> {
  const names = (await readdir(out)).sort();
  expect(names).toEqual(
    packedFiles(packed)
      .map((f) => path.basename(f))
      .sort(),
  );
  const sidecar = await readFile(packed.sidecar, 'utf8');
  const listed = sidecar
    .trim()
    .split('\n')
    .map((line) => line.slice(66));
  expect([...listed, path.basename(packed.sidecar)].sort()).toEqual(names);
  await run('sha256sum', ['--quiet', '-c', path.basename(packed.sidecar)], { cwd: out });
  expect((await unpacked(out, names)).equals(content)).toBe(true);
}

describe('export --force: the replaced bundle leaves nothing behind', () => {
  it('unsplit, then split: the old archive goes', async () => {
    const out = await tempDir();
    await exportWith(out, 1000, undefined);
    expect((await readdir(out)).sort()).toEqual([ARCHIVE, `${ARCHIVE}.sha256`]);
    const { packed, content } = await exportWith(out, 12800, PART);
    expect(packed.parts.map((p) => path.basename(p))).toEqual(
      [1, 2, 3, 4].map((i) => `${ARCHIVE}.part00${i}`),
    );
    await expectOnlyNew(out, packed, content);
  });

  it('split, then unsplit: the old parts go', async () => {
    const out = await tempDir();
    const first = await exportWith(out, 12800, PART);
    expect(first.packed.parts).toHaveLength(4);
    const { packed, content } = await exportWith(out, 1000, undefined);
    expect(packed.parts).toEqual([]);
    await expectOnlyNew(out, packed, content);
  });

  it('in another compression: the old .tar.gz goes, and without --force it is refused', async () => {
    const out = await tempDir();
    await exportWith(out, 1000, undefined, 'gzip');
    expect((await readdir(out)).sort()).toEqual([`${ARCHIVE}.gz`, `${ARCHIVE}.gz.sha256`]);
    const options = optionsFor(await tempDir(), 'demo', { outDir: out, compression: 'none' });
    await expect(assertOutputFree(options)).rejects.toMatchObject({ code: 'EEXIST', file: `${ARCHIVE}.gz` });
    const { packed, content } = await exportWith(out, 1000, undefined);
    await expectOnlyNew(out, packed, content);
  });

  it('split into fewer parts than before: the old last parts go', async () => {
    const out = await tempDir();
    const first = await exportWith(out, 12800, PART);
    expect(first.packed.parts).toHaveLength(4);
    const { packed, content } = await exportWith(out, 5000, PART);
    expect(packed.parts.map((p) => path.basename(p))).toEqual([`${ARCHIVE}.part001`, `${ARCHIVE}.part002`]);
    await expectOnlyNew(out, packed, content);
  });
});

describe('finalizeStep', () => {
  it('takes the digests of the archives and the tiktoken files from the steps that wrote them', async () => {
    const staging = await tempDir();
    await mkdir(path.join(staging, 'images'));
    await mkdir(path.join(staging, 'tiktoken'));
    await writeFile(path.join(staging, 'images/images.tar'), 'images');
    await writeFile(path.join(staging, 'tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4'), 'ranks');
    await writeFile(path.join(staging, 'tiktoken/index.json'), '{}');
    const options = optionsFor(staging, 'demo');
    const state = newExportState(
      options,
      undefined as unknown as DockerEngine,
      staging,
      new AbortController().signal,
      () => {},
    );
    // Digests the steps reported (made up here, with the right sizes): if finalize re-read the files it would
    // record the files' real sha256 instead.
    const known = (c: string) => c.repeat(64);
    state.compose = { tool: 'docker-compose 1.29.2', profiles: [] } as unknown as typeof state.compose;
    state.plan = { services: [] } as unknown as typeof state.plan;
    state.engineVersion = { version: '26.1.5', os: 'linux', arch: 'amd64' } as typeof state.engineVersion;
    state.imagesArchive = { sha256: known('a'), size: 6 };
    state.tiktoken = [
      {
        encoding: 'cl100k_base',
        url: 'https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken',
        file: 'tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4',
        sha256: known('b'),
        size: 5,
      },
    ];
    const manifest = await finalizeStep(state);
    const digest = (file: string) => manifest.files.find((f) => f.path === file)?.sha256;
    expect(digest('images/images.tar')).toBe(known('a'));
    expect(digest('tiktoken/9b5ad71b2ce5302211f9c61530b329a4922fc6a4')).toBe(known('b'));
    // index.json's digest was not reported: it is hashed.
    expect(digest('tiktoken/index.json')).toBe(
      '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    );
  });
});
