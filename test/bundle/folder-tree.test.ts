import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { listFolderTree } from '../../src/bundle/folder-tree.js';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { bundleFolderOutputs } from '../../src/selfcontained/in-place.js';
import { tempDir } from '../support/temp-dir.js';

// A folder this user cannot read (a database's 0700 data folder): as root nothing is unreadable, so opendir
// answers EACCES for folders named "pgdata".
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    opendir: async (dir: string, ...rest: []) => {
      if (path.basename(dir) === 'pgdata') {
        throw Object.assign(new Error(`EACCES: permission denied, opendir '${dir}'`), { code: 'EACCES' });
      }
      return real.opendir(dir, ...rest);
    },
  };
});

describe('listFolderTree: a folder that cannot be read', () => {
  it('is one problem naming it (the rest is listed), which a stack in use in stack/ leaves out', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'stack/pgdata'), { recursive: true });
    await writeFile(path.join(dir, 'stack/docker-compose.yml'), 'services: {}\n');
    const tree = await listFolderTree(dir, 'demo-1.0.0');
    expect([...tree.files.keys()]).toEqual(['stack/docker-compose.yml']);
    expect(tree.unsafe).toEqual([
      expect.objectContaining({
        code: 'EINTERNAL',
        file: 'stack/pgdata',
        message: expect.stringMatching(/cannot be read \(EACCES\)/),
      }),
    ]);
    const manifest = { files: [] } as unknown as BundleManifest;
    expect(bundleFolderOutputs(dir, true)('stack/pgdata', manifest, 'other')).toBe(true);
    // Before any import in place, and outside stack/, it is reported; so are links named like import outputs.
    expect(bundleFolderOutputs(dir, false)('stack/pgdata', manifest, 'other')).toBe(false);
    expect(bundleFolderOutputs(dir, true)('pgdata', manifest, 'other')).toBe(false);
    expect(bundleFolderOutputs(dir, false)('stack/.env', manifest, 'other')).toBe(false);
    expect(bundleFolderOutputs(dir, false)('stack/.env', manifest, 'file')).toBe(true);
  });
});
