import { describe, expect, it } from 'vitest';
import { detectComposeTool } from '../../src/compose/detect-tool.js';
import { fakeCompose } from '../support/fake-compose.js';

// Which compose tool runs, and how: the one answer read-compose.ts, compose-start.ts and import.sh follow.
describe('detectComposeTool', () => {
  it('runs a standalone docker-compose 2.x as docker-compose, with the v2 flags', async () => {
    const fake = await fakeCompose('2.24.6');
    expect(await detectComposeTool({ ...process.env, PATH: `${fake.bin}:${process.env.PATH}` })).toEqual({
      kind: 'v2',
      label: 'docker-compose 2.24.6',
      program: 'docker-compose',
      prefix: [],
      v2Flags: true,
    });
    expect(await fake.calls()).toEqual(['version --short']);
  });

  it('runs docker-compose 1.x (this host) without the v2 flags', async () => {
    expect(await detectComposeTool()).toEqual({
      kind: 'v1',
      label: expect.stringMatching(/^docker-compose 1\./),
      program: 'docker-compose',
      prefix: [],
      v2Flags: false,
    });
  });
});
