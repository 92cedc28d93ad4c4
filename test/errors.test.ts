import { describe, expect, it } from 'vitest';
import { OfflineError } from '../src/errors.js';

describe('OfflineError.describe', () => {
  it('gives code, message, the values compared and the hint on one line', () => {
    const error = new OfflineError('EINTEGRITY', 'images/images.tar: sha256 differs', {
      expected: 'aa11',
      found: 'bb22',
      hint: 'copy the bundle again',
    });
    expect(error.describe()).toBe(
      'EINTEGRITY: images/images.tar: sha256 differs (expected aa11, found bb22) - copy the bundle again',
    );
  });

  it('names only the side that is known', () => {
    expect(new OfflineError('EREGISTRY', 'HEAD /v2/ failed', { found: 500 }).describe()).toBe(
      'EREGISTRY: HEAD /v2/ failed (found 500)',
    );
    expect(new OfflineError('EMISSING', 'a.txt: missing', { expected: 'a file' }).describe()).toBe(
      'EMISSING: a.txt: missing (expected a file)',
    );
    expect(new OfflineError('EUSAGE', 'no bundle named').describe()).toBe('EUSAGE: no bundle named');
  });

  it('trims the values compared (a tool output ends in a line break)', () => {
    const error = new OfflineError('EDOCKER', 'docker service ls: output that is not JSON', {
      found: 'This node is not a swarm manager.\n',
    });
    expect(error.describe()).toBe(
      'EDOCKER: docker service ls: output that is not JSON (found This node is not a swarm manager.)',
    );
  });
});
