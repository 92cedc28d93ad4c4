import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretByContents, secretByName } from '../../src/export/secrets.js';
import { tempDir } from '../support/temp-dir.js';

describe('secret detection', () => {
  it('refuses secret-looking names but not templates', () => {
    for (const name of [
      '.env',
      'app/.env.production',
      'tls/server.pem',
      'id_rsa',
      'credentials',
      'x/service.key',
    ]) {
      expect(secretByName(name), name).toBeDefined();
    }
    for (const name of [
      '.env.example',
      '.env.sample',
      'env.template',
      'nginx.conf',
      'Dockerfile',
      'keys.md',
    ]) {
      expect(secretByName(name), name).toBeUndefined();
    }
  });

  it('finds API keys, AWS keys and private keys in contents, also across read boundaries', async () => {
    const dir = await tempDir();
    const cases: [string, string | undefined][] = [
      ['OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123', 'an API key (sk-...)'],
      ['aws_access_key_id = AKIAIOSFODNN7EXAMPLE', 'an AWS access key ID'],
      ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n', 'a PEM private key'],
      ['OPENAI_API_KEY=sk-...\nSECRET_KEY=\n', undefined],
      [`${'x'.repeat(1024 * 1024 - 10)}\nKEY=sk-abcdefghijklmnopqrstuvwxyz`, 'an API key (sk-...)'],
    ];
    for (const [index, [text, why]] of cases.entries()) {
      const file = path.join(dir, `f${index}`);
      await writeFile(file, text);
      expect(await secretByContents(file), text.slice(0, 30)).toBe(why);
    }
  });
});
