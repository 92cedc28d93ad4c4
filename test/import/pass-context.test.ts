import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildContextStream, contextStream } from '../../src/export/build-context.js';
import { passContext } from '../../src/import/pass-context.js';
import { fileTree } from '../export/support/file-tree.js';
import { filesIn } from '../support/context-files.js';

const DOCKERFILE = `FROM busybox AS deps
COPY requirements.txt /app/
COPY vendor/ /wheels/
RUN true
FROM deps
COPY . /app
`;

/** A context whose deps stage reads two paths, beside a big src/ it does not read. */
const context = () =>
  fileTree({
    'docker/Dockerfile': DOCKERFILE,
    '.dockerignore': 'vendor/*.tmp\n',
    'requirements.txt': 'flask==3.0.0\n',
    'vendor/a.whl': 'wheel',
    'vendor/b.tmp': 'left out by the .dockerignore',
    'vendor-notes.txt': 'not read by deps',
    'src/app.py': 'print("hi")\n',
    'src/model.bin': 'x'.repeat(4096),
  });

describe('passContext: what a stage pass sends of the build context', () => {
  it('only what its stages read, with the Dockerfile and .dockerignore; the .dockerignore still applies', async () => {
    const dir = await context();
    const pass = await passContext(dir, 'docker/Dockerfile', DOCKERFILE, 'deps');
    const sent = ['.dockerignore', 'docker/Dockerfile', 'requirements.txt', 'vendor/a.whl'];
    expect(pass.sent).toEqual({
      sources: ['requirements.txt', 'vendor'],
      files: sent.length,
      bytes: 'vendor/*.tmp\n'.length + DOCKERFILE.length + 'flask==3.0.0\n'.length + 'wheel'.length,
    });
    expect(await filesIn(contextStream(dir, pass.filter))).toEqual(sent);
    // Without a filter, the whole context as before.
    expect(await filesIn(await buildContextStream(dir, 'docker/Dockerfile'))).toContain('src/model.bin');
  });

  it('the whole context when what the stages read holds a symbolic link (the builder may follow it)', async () => {
    const dir = await context();
    await symlink('../src/app.py', path.join(dir, 'vendor/app.py'));
    const pass = await passContext(dir, 'docker/Dockerfile', DOCKERFILE, 'deps');
    expect(pass.sent).toEqual({ whole: 'a symbolic link among what the stages read: vendor/app.py' });
    expect(await filesIn(contextStream(dir, pass.filter))).toContain('src/model.bin');
  });

  it('the whole context when a link is a folder on the way to a source', async () => {
    const dir = await context();
    const text = 'FROM busybox AS deps\nCOPY conf/app.ini /etc/\nFROM deps\n';
    await symlink('src', path.join(dir, 'conf'));
    expect((await passContext(dir, 'docker/Dockerfile', text, 'deps')).sent).toEqual({
      whole: 'a symbolic link among what the stages read: conf',
    });
  });

  it('a link elsewhere in the context, or one the .dockerignore leaves out, does not matter', async () => {
    const dir = await context();
    await symlink('app.py', path.join(dir, 'src/link.py'));
    await symlink('a.whl', path.join(dir, 'vendor/c.tmp'));
    const pass = await passContext(dir, 'docker/Dockerfile', DOCKERFILE, 'deps');
    expect(pass.sent).toMatchObject({ sources: ['requirements.txt', 'vendor'], files: 4 });
  });

  it('the whole context when a FROM base has ONBUILD triggers, or the Dockerfile cannot say', async () => {
    const dir = await context();
    expect(
      (await passContext(dir, 'docker/Dockerfile', DOCKERFILE, 'deps', ['python:onbuild'])).sent,
    ).toEqual({
      whole: 'ONBUILD triggers in python:onbuild',
    });
    const copyAll = 'FROM busybox AS deps\nCOPY . /app\nFROM deps\n';
    const pass = await passContext(dir, 'docker/Dockerfile', copyAll, 'deps');
    expect(pass.sent).toEqual({ whole: 'the source . (COPY . /app)' });
    // The whole context, the .dockerignore still applied.
    const whole = await filesIn(contextStream(dir, pass.filter));
    expect(whole).toContain('src/model.bin');
    expect(whole).not.toContain('vendor/b.tmp');
  });
});
