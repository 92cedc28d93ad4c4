import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { planFiles } from '../../src/import/file-plan.js';
import { tempDir } from '../support/temp-dir.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The bundle's files (stack/ and README.txt, with an image archive planFiles leaves to the engine). */
const bundled: Record<string, string> = {
  'README.txt': 'readme\n',
  'stack/a.yml': 'a: 2\n',
  'stack/b.yml': 'b: 2\n',
  'stack/c.yml': 'c: 2\n',
  'stack/d.yml': 'd: 2\n',
  'stack/e.yml': 'e: 2\n',
};
const manifest = {
  files: [
    ...Object.entries(bundled).map(([p, text]) => ({ path: p, sha256: sha(text), size: text.length })),
    { path: 'images/images.tar', sha256: sha('tar'), size: 3 },
  ],
} as unknown as BundleManifest;

/**
 * A target an earlier import wrote: a.yml absent, b.yml as the bundle has it, c.yml as the earlier import wrote
 * it (its report says so), d.yml and e.yml changed by the user since.
 */
async function target(): Promise<string> {
  const dir = await tempDir();
  await mkdir(path.join(dir, '.offline'));
  await writeFile(path.join(dir, '.offline', 'README.txt'), 'readme\n');
  await writeFile(path.join(dir, 'b.yml'), 'b: 2\n');
  await writeFile(path.join(dir, 'c.yml'), 'c: 1\n');
  await writeFile(path.join(dir, 'd.yml'), 'd: mine\n');
  await writeFile(path.join(dir, 'e.yml'), 'e: mine\n');
  const report = { files: [{ path: 'c.yml', sha256: sha('c: 1\n') }] };
  await writeFile(path.join(dir, 'import-report.json'), JSON.stringify(report));
  return dir;
}

describe('planFiles', () => {
  it('decides each file from what its target holds, in the manifest order', async () => {
    const dir = await target();
    const plan = await planFiles(manifest, dir, true);
    expect(plan.map((f) => [f.targetPath, f.action])).toEqual([
      ['.offline/README.txt', 'unchanged'],
      ['a.yml', 'create'],
      ['b.yml', 'unchanged'],
      ['c.yml', 'update'],
      ['d.yml', 'replace-changed'],
      ['e.yml', 'replace-changed'],
    ]);
    expect(plan[1]?.absolute).toBe(path.join(dir, 'a.yml'));
  });

  it('without --force refuses the files the user changed, all of them named in the manifest order', async () => {
    const dir = await target();
    await expect(planFiles(manifest, dir, false)).rejects.toMatchObject({
      code: 'EEXIST',
      file: dir,
      problems: [
        { code: 'EEXIST', file: path.join(dir, 'd.yml'), expected: sha('d: 2\n'), found: sha('d: mine\n') },
        { code: 'EEXIST', file: path.join(dir, 'e.yml'), expected: sha('e: 2\n'), found: sha('e: mine\n') },
      ],
    });
  });

  it('places only the files `include` names', async () => {
    const dir = await target();
    const plan = await planFiles(manifest, dir, false, (p) => p === 'stack/a.yml');
    expect(plan.map((f) => f.bundlePath)).toEqual(['stack/a.yml']);
  });
});
