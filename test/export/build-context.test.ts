import { afterAll, describe, expect, it } from 'vitest';
import { buildContextStream } from '../../src/export/build-context.js';
import { filesIn } from '../support/context-files.js';
import { removeImages, requireDocker, uniqueName } from '../support/docker.js';
import { fileTree as layout } from './support/file-tree.js';

describe('build context stream', () => {
  const images: string[] = [];
  afterAll(async () => {
    if (images.length > 0) await removeImages((await requireDocker()).engine, images);
  });

  it('sends the Dockerfile and .dockerignore when the .dockerignore leaves out their folder, nothing else there', async () => {
    const context = await layout({
      '.dockerignore': 'docker\n.dockerignore\nsecret.txt\n',
      'docker/Dockerfile': 'FROM scratch\n',
      'docker/notes.txt': 'left out\n',
      'docker/sub/deep.txt': 'left out\n',
      'secret.txt': 'left out\n',
      'src/a.txt': 'a\n',
    });
    expect(await filesIn(await buildContextStream(context, 'docker/Dockerfile'))).toEqual([
      '.dockerignore',
      'docker/Dockerfile',
      'src/a.txt',
    ]);
  });

  it('the engine builds such a context (the docker CLI does too)', async () => {
    const { engine, baseImage } = await requireDocker();
    const context = await layout({
      '.dockerignore': 'docker\n',
      'docker/Dockerfile': `FROM ${baseImage}\nCOPY src/ /src/\n`,
      'src/a.txt': 'a\n',
    });
    const tag = uniqueName('offline-test/build-context');
    images.push(`${tag}:1`);
    const id = await engine.buildImage(await buildContextStream(context, 'docker/Dockerfile'), {
      tags: [`${tag}:1`],
      dockerfile: 'docker/Dockerfile',
      pull: false,
    });
    expect(id).toMatch(/^sha256:/);
  });
});
