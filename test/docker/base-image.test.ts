import { describe, expect, it } from 'vitest';
import { requireDocker } from '../support/docker.js';

describe('busybox base image', () => {
  it('runs shell commands', async () => {
    const { engine, baseImage } = await requireDocker();
    const result = await engine.runContainer(baseImage, ['sh', '-c', 'echo hello from $(uname -s)']);
    expect(result).toEqual({ exitCode: 0, output: 'hello from Linux\n' });
  });
});
