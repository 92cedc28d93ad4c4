import { readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlannedBuild } from '../../src/export/plan.js';
import { copyStackFiles, selectStackFiles } from '../../src/export/stack-files.js';
import { tempDir } from '../support/temp-dir.js';
import { fileTree as layout } from './support/file-tree.js';

function built(root: string, context: string): PlannedBuild {
  return {
    service: context,
    build: { context: path.join(root, context), dockerfile: 'Dockerfile', args: {} },
    tags: [],
    dockerfile: { stages: [], bases: [], args: [] },
  };
}

describe('stack files', () => {
  it('ships the compose file, the env template, the globs and the build contexts minus .dockerignore', async () => {
    const root = await layout({
      'docker-compose.yml': 'services: {}\n',
      '.env.example': 'OPENAI_API_KEY=sk-...\n',
      'nginx/nginx.conf': 'events {}\n',
      'nginx/conf.d/site.conf': 'server {}\n',
      'notes.md': 'not shipped\n',
      'api/Dockerfile': 'FROM x\n',
      'api/.dockerignore': 'tmp\n',
      'api/app.py': 'print(1)\n',
      'api/tmp/cache.bin': 'x',
    });
    const stack = await selectStackFiles({
      stackRoot: root,
      composeFile: path.join(root, 'docker-compose.yml'),
      envTemplate: path.join(root, '.env.example'),
      globs: ['nginx/**'],
      builds: [built(root, 'api')],
      fullContexts: true,
      includeSecrets: false,
    });
    expect(stack).toEqual({
      files: [
        '.env.example',
        'api/.dockerignore',
        'api/Dockerfile',
        'api/app.py',
        'docker-compose.yml',
        'nginx/conf.d/site.conf',
        'nginx/nginx.conf',
      ],
      secrets: [],
    });
    const lean = await selectStackFiles({
      stackRoot: root,
      composeFile: path.join(root, 'docker-compose.yml'),
      globs: [],
      builds: [built(root, 'api')],
      fullContexts: false,
      includeSecrets: false,
    });
    expect(lean.files).toEqual(['api/.dockerignore', 'api/Dockerfile', 'docker-compose.yml']);
    const staging = await tempDir();
    await copyStackFiles(root, stack.files, staging);
    expect(await readFile(path.join(staging, 'stack/nginx/conf.d/site.conf'), 'utf8')).toBe('server {}\n');
  });

  it('refuses secrets by name and by contents unless told to include them', async () => {
    const cases: Record<string, string>[] = [
      { 'api/.env': 'X=1\n' },
      { 'api/certs/server.pem': 'cert\n' },
      { 'api/settings.py': 'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"\n' },
      { 'api/deploy': '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n' },
    ];
    for (const extra of cases) {
      const root = await layout({
        'docker-compose.yml': 'services: {}\n',
        'api/Dockerfile': 'FROM x\n',
        ...extra,
      });
      const request = {
        stackRoot: root,
        composeFile: path.join(root, 'docker-compose.yml'),
        globs: [],
        builds: [built(root, 'api')],
        fullContexts: true,
        includeSecrets: false,
      };
      const name = Object.keys(extra)[0] ?? '';
      await expect(selectStackFiles(request), name).rejects.toMatchObject({
        code: 'ESECRET',
        file: path.join(root, name),
      });
      expect((await selectStackFiles({ ...request, includeSecrets: true })).secrets).toEqual([name]);
    }
  });

  it('refuses a glob that matches nothing and a build context outside the stack folder', async () => {
    const root = await layout({ 'docker-compose.yml': 'services: {}\n' });
    const base = {
      stackRoot: root,
      composeFile: path.join(root, 'docker-compose.yml'),
      fullContexts: true,
      includeSecrets: false,
    };
    await expect(selectStackFiles({ ...base, globs: ['nginx/**'], builds: [] })).rejects.toMatchObject({
      code: 'EUSAGE',
      found: 'nginx/**',
    });
    await expect(
      selectStackFiles({ ...base, globs: [], builds: [built(root, '../elsewhere')] }),
    ).rejects.toMatchObject({ code: 'EUSAGE' });
  });

  it('does not look at what does not ship: broken links under ignored folders and outside the globs', async () => {
    const root = await layout({
      'docker-compose.yml': 'services: {}\n',
      'conf/site.conf': 'server {}\n',
      'api/Dockerfile': 'FROM x\n',
      'api/.dockerignore': 'node_modules\nlogs/*.log\n',
      'api/app.js': 'run()\n',
      'api/node_modules/pkg/index.js': 'x\n',
      'api/logs/keep.txt': 'kept\n',
    });
    await symlink('/nonexistent', path.join(root, 'api/node_modules/dangling'));
    await symlink('/nonexistent', path.join(root, 'api/node_modules/pkg/dangling'));
    await symlink('/nonexistent', path.join(root, 'api/logs/old.log'));
    await symlink('/nonexistent', path.join(root, 'notes-link'));
    const request = {
      stackRoot: root,
      composeFile: path.join(root, 'docker-compose.yml'),
      globs: ['conf/**'],
      builds: [built(root, 'api')],
      includeSecrets: false,
    };
    expect((await selectStackFiles({ ...request, fullContexts: true })).files).toEqual([
      'api/.dockerignore',
      'api/Dockerfile',
      'api/app.js',
      'api/logs/keep.txt',
      'conf/site.conf',
      'docker-compose.yml',
    ]);
    expect((await selectStackFiles({ ...request, fullContexts: false })).files).toEqual([
      'api/.dockerignore',
      'api/Dockerfile',
      'conf/site.conf',
      'docker-compose.yml',
    ]);
  });

  it('still refuses a broken link that would ship (EUNSAFE_PATH)', async () => {
    const root = await layout({
      'docker-compose.yml': 'services: {}\n',
      'conf/site.conf': 'server {}\n',
      'api/Dockerfile': 'FROM x\n',
      'api/.dockerignore': 'node_modules\n',
    });
    await symlink('/nonexistent', path.join(root, 'api/config.js'));
    await symlink('/nonexistent', path.join(root, 'conf/broken.conf'));
    const base = {
      stackRoot: root,
      composeFile: path.join(root, 'docker-compose.yml'),
      includeSecrets: false,
    };
    await expect(
      selectStackFiles({ ...base, globs: [], builds: [built(root, 'api')], fullContexts: true }),
    ).rejects.toMatchObject({ code: 'EUNSAFE_PATH', file: path.join(root, 'api/config.js') });
    await expect(
      selectStackFiles({ ...base, globs: ['conf/**'], builds: [], fullContexts: true }),
    ).rejects.toMatchObject({ code: 'EUNSAFE_PATH', file: path.join(root, 'conf/broken.conf') });
  });

  it('with a `!` exception, enters an ignored folder for what it re-includes, and ships a Dockerfile in a sub-folder', async () => {
    const root = await layout({
      'docker-compose.yml': 'services: {}\n',
      'api/docker/Dockerfile': 'FROM x\n',
      'api/.dockerignore': 'vendor\n!vendor/keep.txt\ndocker\n',
      'api/vendor/keep.txt': 'kept\n',
      'api/vendor/drop.txt': 'dropped\n',
    });
    await symlink('/nonexistent', path.join(root, 'api/vendor/dangling'));
    const build = built(root, 'api');
    build.build.dockerfile = './docker/Dockerfile';
    const request = {
      stackRoot: root,
      composeFile: path.join(root, 'docker-compose.yml'),
      globs: [],
      builds: [build],
      includeSecrets: false,
    };
    expect((await selectStackFiles({ ...request, fullContexts: true })).files).toEqual([
      'api/.dockerignore',
      'api/docker/Dockerfile',
      'api/vendor/keep.txt',
      'docker-compose.yml',
    ]);
    expect((await selectStackFiles({ ...request, fullContexts: false })).files).toEqual([
      'api/.dockerignore',
      'api/docker/Dockerfile',
      'docker-compose.yml',
    ]);
  });
});
