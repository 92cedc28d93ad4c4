import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinition, validateDefinition } from '../../src/bundle/definition.js';
import { tempDir } from '../support/temp-dir.js';

describe('bundle.yaml', () => {
  it('reads a full definition with paths resolved against its folder', async () => {
    const dir = path.join(await tempDir(), 'demo');
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'bundle.yaml'),
      [
        'name: demo',
        'version: 1.0.0',
        'compose: docker-compose.yml',
        'profiles: [postgres]',
        'images: [busybox:1.36]',
        'files: ["nginx/**"]',
        'tiktoken: { encodings: [cl100k_base] }',
        'buildCache: true',
        'pull: never',
        'platform: linux/amd64',
        'env:',
        '  template: .env.example',
        '  generate: { SECRET_KEY: { kind: hex, bytes: 32 }, ID: { kind: uuid } }',
      ].join('\n'),
    );
    expect(await loadDefinition(dir)).toEqual({
      file: path.join(dir, 'bundle.yaml'),
      dir,
      name: 'demo',
      version: '1.0.0',
      compose: path.join(dir, 'docker-compose.yml'),
      profiles: ['postgres'],
      images: ['busybox:1.36'],
      files: ['nginx/**'],
      encodings: ['cl100k_base'],
      buildCache: true,
      pull: 'never',
      platform: 'linux/amd64',
      env: {
        template: path.join(dir, '.env.example'),
        generate: { SECRET_KEY: { kind: 'hex', bytes: 32 }, ID: { kind: 'uuid' } },
      },
    });
  });

  it('names the file and the field of every mistake', () => {
    const file = '/x/bundles/demo/bundle.yaml';
    const cases: [unknown, RegExp][] = [
      [{ version: '1' }, /"name" must be a non-empty string/],
      [{ name: 'Demo!', version: '1' }, /"name" must match/],
      [{ name: 'demo' }, /"version" must be/],
      [{ name: 'demo', version: '1', pull: 'sometimes' }, /"pull" must be one of missing, always, never/],
      [{ name: 'demo', version: '1', files: ['../etc/passwd'] }, /"files\[0\]" must be a relative path/],
      [{ name: 'demo', version: '1', buildCache: 'yes' }, /"buildCache" must be true or false/],
      [
        { name: 'demo', version: '1', tiktoken: { encodings: ['cl100k_base', 'cl100k'] } },
        /"tiktoken.encodings\[1\]" is not a tiktoken encoding or model offline knows/,
      ],
      [{ name: 'demo', version: '1', colour: 'red' }, /"colour" is not a known field/],
      [
        { name: 'demo', version: '1', env: { template: '.env.example', generate: { K: { kind: 'rot13' } } } },
        /"env.generate.K.kind" must be hex, base64 or uuid/,
      ],
    ];
    for (const [raw, message] of cases) {
      expect(() => validateDefinition(raw, file), message.source).toThrow(
        expect.objectContaining({ code: 'EUSAGE', file, message: expect.stringMatching(message) }),
      );
    }
  });

  it('refuses a missing definition with EUSAGE', async () => {
    const dir = await tempDir();
    await expect(loadDefinition(dir)).rejects.toMatchObject({
      code: 'EUSAGE',
      file: path.join(dir, 'bundle.yaml'),
    });
  });

  it('refuses YAML that does not parse with one line naming the file, the problem and where', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'bundle.yaml'), 'name: x\nversion: [1\n');
    const error = await loadDefinition(dir).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(error).toMatchObject({ code: 'EUSAGE', file: path.join(dir, 'bundle.yaml') });
    expect(error?.message).toMatch(/^\S+bundle\.yaml: not valid YAML \(.* at line 3, column 1\)$/);
    expect(error?.message).not.toContain('\n');
  });
});
