import { describe, expect, it } from 'vitest';
import { IMPORTER_NODE, nodeTooOld } from '../../src/selfcontained/node-version.js';

describe('nodeTooOld', () => {
  it.each(['20.17.0', '20.18.1', '21.0.0', '22.11.0', '24.1.0'])('runs on Node %s', (version) => {
    expect(nodeTooOld(version)).toBeUndefined();
  });

  it.each(['20.16.0', '20.0.0', '18.19.1', '16.20.2'])('refuses Node %s, naming both versions', (version) => {
    expect(nodeTooOld(version)).toMatch(
      new RegExp(`needs Node 20\\.17 or later, and this is Node ${version}`),
    );
  });

  it('is what the manifest records', () => {
    expect(IMPORTER_NODE).toBe('>=20.17');
  });
});
