import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnvFile } from '../../src/registry/env-file.js';
import { tempDir } from '../support/temp-dir.js';

describe('readEnvFile (the variables docker stack deploy gets from .env)', () => {
  it('reads KEY=VALUE lines, skips comments and blanks, strips one pair of quotes, keeps = in values', async () => {
    const file = path.join(await tempDir(), '.env');
    await writeFile(
      file,
      '# generated\nSECRET_KEY=ab12\n\nGREETING="hello world"\nexport MODE=\'x\'\nURL=http://h/?a=b\r\nnot a line\n',
    );
    expect(await readEnvFile(file)).toEqual({
      SECRET_KEY: 'ab12',
      GREETING: 'hello world',
      MODE: 'x',
      URL: 'http://h/?a=b',
    });
  });

  it('gives nothing for a missing file', async () => {
    expect(await readEnvFile(path.join(await tempDir(), 'none'))).toEqual({});
  });
});
