import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { renderImportScript, secretCommand } from '../../src/selfcontained/import-script.js';
import { baseManifest } from '../support/bundle-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const plain = baseManifest('plain', '1.0.0', new Date('2026-01-01T00:00:00Z'));
const rich: Omit<BundleManifest, 'files'> = {
  ...baseManifest('rich', '2.0.0', new Date('2026-01-01T00:00:00Z')),
  compose: { file: "stack/it's compose.yml", profiles: ['a b', 'worker'] },
  archives: [
    { path: 'images/images.tar', kind: 'images', images: [] },
    { path: 'caches/build-cache.tar', kind: 'build-cache', images: [] },
  ],
  env: {
    template: 'stack/.env.example',
    generate: { HEX: { kind: 'hex', bytes: 16 }, B64: { kind: 'base64', bytes: 24 }, ID: { kind: 'uuid' } },
  },
  tiktoken: {
    dir: 'tiktoken',
    entries: [{ encoding: 'cl100k_base', url: 'u', file: 'tiktoken/x', sha256: 'a'.repeat(64), size: 1 }],
  },
};

async function syntaxCheck(script: string): Promise<void> {
  const file = path.join(await tempDir(), 'import.sh');
  await writeFile(file, script);
  execFileSync('/bin/dash', ['-n', file]);
}

describe('import.sh', () => {
  it('is valid POSIX sh (dash -n) for a bare bundle and for one with every option', async () => {
    await syntaxCheck(renderImportScript(plain));
    await syntaxCheck(renderImportScript(rich));
  });

  it('quotes names for sh, passes every profile, loads the build cache, fills every generated key', () => {
    const script = renderImportScript(rich);
    expect(script).toContain(`-f 'it'\\''s compose.yml' --profile 'a b' --profile worker up -d --no-build`);
    expect(script).toContain('docker load -i caches/build-cache.tar');
    for (const key of ['HEX', 'B64', 'ID']) expect(script).toContain(`done_${key}=1`);
    expect(script).toContain('export TIKTOKEN_CACHE_DIR="$TARGET/tiktoken"');
    expect(renderImportScript(plain)).not.toContain('TIKTOKEN_CACHE_DIR');
  });

  it('refuses an env key that is not a variable name (EMANIFEST)', () => {
    const bad = {
      ...rich,
      env: { template: 'stack/.env.example', generate: { 'A;rm': { kind: 'uuid' as const } } },
    };
    expect(() => renderImportScript(bad)).toThrow(expect.objectContaining({ code: 'EMANIFEST' }));
  });

  it('generates secrets of the asked kind and size with coreutils only', () => {
    const run = (spec: Parameters<typeof secretCommand>[0]) =>
      execFileSync('/bin/dash', ['-c', secretCommand(spec)], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
      });
    expect(run({ kind: 'hex', bytes: 32 })).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(run({ kind: 'base64', bytes: 24 }), 'base64')).toHaveLength(24);
    expect(run({ kind: 'uuid' }).trim()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(run({ kind: 'hex', bytes: 32 })).not.toBe(run({ kind: 'hex', bytes: 32 }));
  });
});
