import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import * as tar from 'tar';
import { describe, expect, it } from 'vitest';
import { canonicalSave } from '../../src/export/canonical-save.js';
import { tempDir } from '../support/temp-dir.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** A save-like archive of two images sharing one layer: the file under `holder`, a symlink under the other. */
async function saveLike(root: string, holder: string, order: string[], mtime: Date): Promise<string> {
  const dir = path.join(root, `src-${holder}`);
  for (const id of [A, B]) {
    await mkdir(path.join(dir, id), { recursive: true });
    await writeFile(path.join(dir, id, 'json'), `{"id":"${id}"}`);
  }
  const other = holder === A ? B : A;
  await writeFile(path.join(dir, holder, 'layer.tar'), Buffer.alloc(5000, 1));
  await symlink(`../${holder}/layer.tar`, path.join(dir, other, 'layer.tar'));
  const manifest = order.map((id) => ({
    Config: `${id}.json`,
    RepoTags: [`img-${id[0]}:1`],
    Layers: [`${id}/layer.tar`],
  }));
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  const file = path.join(root, `save-${holder}.tar`);
  const bytes = await buffer(
    tar.c({ cwd: dir, portable: true, mtime, noDirRecurse: true }, [
      A,
      `${A}/json`,
      `${A}/layer.tar`,
      B,
      `${B}/json`,
      `${B}/layer.tar`,
      'manifest.json',
    ]) as unknown as Readable,
  );
  await writeFile(file, bytes);
  return file;
}

describe('canonicalSave', () => {
  it('gives the same bytes whichever image holds a shared layer and whatever the image order', async () => {
    const root = await tempDir();
    const first = await saveLike(root, B, [B, A], new Date('2026-01-01T00:00:00Z'));
    const second = await saveLike(root, A, [A, B], new Date('2026-02-02T00:00:00Z'));
    const mtime = new Date('2023-11-14T22:13:20Z');
    const one = await buffer(Readable.from(canonicalSave(first, mtime)));
    const two = await buffer(Readable.from(canonicalSave(second, mtime)));
    expect(one.equals(two)).toBe(true);
    const out = path.join(root, 'canonical.tar');
    await writeFile(out, one);
    const listing = execFileSync('tar', ['--full-time', '-tvf', out], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    expect(listing).toMatch(new RegExp(`-rw.* 5000 2023-11-14 22:13:20 ${A}/layer.tar`));
    expect(listing).toMatch(new RegExp(`lrw.* ${B}/layer.tar -> ../${A}/layer.tar`));
    expect(
      listing
        .trim()
        .split('\n')
        .every((line) => line.includes('2023-11-14 22:13:20')),
    ).toBe(true);
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest.map((m: { Config: string }) => m.Config)).toEqual([`${A}.json`, `${B}.json`]);
    expect(execFileSync('tar', ['-xOf', out, `${A}/layer.tar`]).equals(Buffer.alloc(5000, 1))).toBe(true);
  });

  it('puts a save without linked layers in load order: manifest.json, configs, layer folders by chain', async () => {
    const root = await tempDir();
    const dir = path.join(root, 'src');
    const C = 'c'.repeat(64);
    // Images A (layers base, A) and B (layers base, B); the engine writes folders sorted, manifest.json last.
    for (const id of [A, B, C]) {
      await mkdir(path.join(dir, id), { recursive: true });
      await writeFile(path.join(dir, id, 'VERSION'), '1.0');
      await writeFile(path.join(dir, id, 'layer.tar'), Buffer.alloc(1024, id.charCodeAt(0)));
    }
    for (const name of ['cfg-a.json', 'cfg-b.json', 'repositories'])
      await writeFile(path.join(dir, name), '{}');
    const manifest = [
      { Config: 'cfg-b.json', RepoTags: ['b:1'], Layers: [`${C}/layer.tar`, `${B}/layer.tar`] },
      { Config: 'cfg-a.json', RepoTags: ['a:1'], Layers: [`${C}/layer.tar`, `${A}/layer.tar`] },
    ];
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const file = path.join(root, 'save.tar');
    const engineOrder = [A, `${A}/VERSION`, `${A}/layer.tar`, B, `${B}/VERSION`, `${B}/layer.tar`, C];
    engineOrder.push(
      `${C}/VERSION`,
      `${C}/layer.tar`,
      'cfg-a.json',
      'cfg-b.json',
      'manifest.json',
      'repositories',
    );
    const mtime = new Date('2023-11-14T22:13:20Z');
    const save = tar.c({ cwd: dir, portable: true, mtime, noDirRecurse: true }, engineOrder);
    await writeFile(file, await buffer(save as unknown as Readable));
    const out = path.join(root, 'canonical.tar');
    await writeFile(out, await buffer(Readable.from(canonicalSave(file, mtime))));
    const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual([
      'manifest.json',
      'cfg-a.json',
      'cfg-b.json',
      `${C}/`,
      `${C}/VERSION`,
      `${C}/layer.tar`,
      `${A}/`,
      `${A}/VERSION`,
      `${A}/layer.tar`,
      `${B}/`,
      `${B}/VERSION`,
      `${B}/layer.tar`,
      'repositories',
    ]);
    expect(
      execFileSync('tar', ['-xOf', out, `${B}/layer.tar`]).equals(Buffer.alloc(1024, B.charCodeAt(0))),
    ).toBe(true);
  });
});
