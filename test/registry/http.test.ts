import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createAgents } from '../../src/registry/http.js';

describe('registry HTTP agents', () => {
  it('trusts a --ca certificate besides the usual roots, not instead of them', () => {
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const agents = createAgents(ca);
    try {
      const trusted = agents.https.options.ca as string[];
      expect(trusted).toEqual(expect.arrayContaining([...rootCertificates, ca.toString()]));
      expect(createAgents().https.options.ca).toBeUndefined();
    } finally {
      agents.http.destroy();
      agents.https.destroy();
    }
  });
});
