import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectComposeTool } from '../../src/compose/detect-tool.js';
import { interpolate } from '../../src/compose/interpolate.js';
import { readCompose } from '../../src/compose/read-compose.js';
import type { OfflineError } from '../../src/errors.js';
import { tempDir } from '../support/temp-dir.js';

const COMPOSE = `services:
  web:
    build:
      context: ./web
      dockerfile: Dockerfile.prod
      args: ["APP_MODE=\${APP_MODE:-prod}", "PLAIN=1"]
      target: runtime
    healthcheck: { test: ["CMD", "true"] }
  db:
    image: "postgres:\${PG_VERSION:-16}"
    profiles: [postgres]
  cache:
    image: redis
    profiles: [cache, full]
`;

async function stack(text = COMPOSE): Promise<string> {
  const dir = await tempDir();
  const file = path.join(dir, 'docker-compose.yml');
  await writeFile(file, text);
  await mkdir(path.join(dir, 'web'));
  return file;
}

describe('readCompose', () => {
  it('reads through docker-compose v1 with every profile, interpolated and with absolute contexts', async () => {
    const file = await stack();
    const project = await readCompose({ file, project: 'demo', env: { ...process.env, PG_VERSION: '15' } });
    expect(project.tool).toMatch(/^docker-compose 1\.29/);
    expect(project.allProfiles).toEqual(['cache', 'full', 'postgres']);
    expect(project.profiles).toEqual(project.allProfiles);
    expect(project.services).toEqual([
      { name: 'cache', image: 'redis', profiles: ['cache', 'full'], healthcheck: false },
      { name: 'db', image: 'postgres:15', profiles: ['postgres'], healthcheck: false },
      {
        name: 'web',
        build: {
          context: path.join(path.dirname(file), 'web'),
          dockerfile: 'Dockerfile.prod',
          args: { APP_MODE: 'prod', PLAIN: '1' },
          target: 'runtime',
        },
        profiles: [],
        healthcheck: true,
      },
    ]);
  });

  it('narrows to the given profiles and refuses an unknown one', async () => {
    const file = await stack();
    const narrowed = await readCompose({ file, project: 'demo', profiles: ['postgres'] });
    expect(narrowed.services.map((s) => s.name)).toEqual(['db', 'web']);
    await expect(readCompose({ file, project: 'demo', profiles: ['nope'] })).rejects.toMatchObject({
      code: 'EUSAGE',
      file,
    });
  });

  it('falls back to plain YAML with interpolation, and says so', async () => {
    const file = await stack();
    const warnings: string[] = [];
    const project = await readCompose({
      file,
      project: 'demo',
      tool: { kind: 'yaml', label: 'yaml (no compose tool)' },
      env: { APP_MODE: 'dev' },
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([expect.stringContaining('no compose tool found')]);
    expect(project.tool).toBe('yaml (no compose tool)');
    expect(project.services.find((s) => s.name === 'db')?.image).toBe('postgres:16');
    expect(project.services.find((s) => s.name === 'web')?.build?.args).toEqual({
      APP_MODE: 'dev',
      PLAIN: '1',
    });
  });

  it('refuses a service with neither image nor build, and a broken file, naming the file', async () => {
    const ghost = await stack('services:\n  ghost:\n    command: ["true"]\n');
    await expect(readCompose({ file: ghost, project: 'demo' })).rejects.toMatchObject({
      code: 'ECOMPOSE',
      file: ghost,
      found: 'ghost',
    });
    const broken = await stack('services: [\n');
    await expect(readCompose({ file: broken, project: 'demo' })).rejects.toMatchObject({ code: 'ECOMPOSE' });
    const invalid = await stack('services:\n  web:\n    image: x\n    ports: "not-a-list"\n');
    const error = await readCompose({ file: invalid, project: 'demo' }).then(
      () => undefined,
      (e: OfflineError) => e,
    );
    expect(error).toMatchObject({
      code: 'ECOMPOSE',
      message: expect.stringContaining('docker-compose 1.29'),
    });
    // The tool's words once, on one line.
    expect(error?.describe().match(/services\.web\.ports/g)).toHaveLength(1);
    expect(error?.describe()).not.toContain('\n');
  });

  it('detects the installed tool', async () => {
    expect((await detectComposeTool()).label).toMatch(/^docker-compose 1\./);
    expect(await detectComposeTool({ PATH: '/nonexistent' })).toEqual({
      kind: 'yaml',
      label: 'yaml (no compose tool)',
    });
  });
});

describe('interpolate', () => {
  it('follows compose rules for defaults and $$', () => {
    const env = { SET: 'x', EMPTY: '' };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose syntax, not a JS template
    expect(interpolate('$SET ${SET} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${UNSET} $$SET', env)).toBe(
      'x x d  d  $SET',
    );
  });
});
