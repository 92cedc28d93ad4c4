import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadDefinition } from '../../src/bundle/definition.js';
import { readCompose } from '../../src/compose/read-compose.js';
import { withTag } from '../../src/export/options.js';
import { planExport } from '../../src/export/plan.js';
import { resolveExportOptions } from '../../src/export/resolve-options.js';
import { selectStackFiles } from '../../src/export/stack-files.js';
import { tempDir } from '../support/temp-dir.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLES = [
  'demo',
  'llm-chat',
  'openai-gateway',
  'chatbi-clickhouse',
  'agent-service',
  'agent-platform',
] as const;
const ALL_ENCODINGS = ['r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base'];

interface ConfigService {
  image?: string;
  profiles?: string[];
  healthcheck?: { disable?: boolean };
  environment?: Record<string, string | null>;
  /** v1 prints the short form: `source:target[:mode]`, with bind sources made absolute. */
  volumes?: string[];
}

/** `docker-compose config` run here, independently of src/compose, with the given profiles. */
async function composeConfig(file: string, project: string, profiles: string[]) {
  const args = ['-f', file, '-p', project, ...profiles.flatMap((p) => ['--profile', p]), 'config'];
  const { stdout } = await promisify(execFile)('docker-compose', args, { cwd: path.dirname(file) });
  return (parseYaml(stdout) as { services: Record<string, ConfigService> }).services;
}

/** The images compose needs to run those services: `image:`, else v1's `<project>_<service>` for builds. */
function imagesOf(services: Record<string, ConfigService>, project: string): string[] {
  const refs = Object.entries(services).map(([name, s]) => withTag(s.image ?? `${project}_${name}`));
  return [...new Set(refs)].sort();
}

function declaredProfiles(document: unknown): string[] {
  const services = (document as { services: Record<string, { profiles?: string[] } | null> }).services;
  return [...new Set(Object.values(services).flatMap((s) => s?.profiles ?? []))].sort();
}

async function planBundleOnce(name: string) {
  const dir = path.join(root, 'bundles', name);
  const definition = await loadDefinition(dir);
  // --out is required by the resolver; planning never writes there
  const options = await resolveExportOptions(dir, { out: await tempDir() });
  const compose = await readCompose({
    file: options.composeFile,
    project: options.project,
    ...(options.profiles && { profiles: options.profiles }),
  });
  // Planning only: no engine is passed, so nothing can be pulled, built or fetched.
  const plan = await planExport(compose, options);
  return { dir, definition, options, compose, plan };
}

const planned = new Map<string, ReturnType<typeof planBundleOnce>>();
/** Plans a bundle once per run (each plan runs the compose tool); the tests only read the result. */
function planBundle(name: string): ReturnType<typeof planBundleOnce> {
  const cached = planned.get(name) ?? planBundleOnce(name);
  planned.set(name, cached);
  return cached;
}

describe.each(BUNDLES)('bundles/%s', (name) => {
  it('is a valid definition whose generated secrets fill its env template', async () => {
    const dir = path.join(root, 'bundles', name);
    const definition = await loadDefinition(dir);
    expect(definition.name).toBe(name);
    expect(definition.compose).toBe(path.join(dir, 'docker-compose.yml'));
    expect(definition.env?.template).toBe(path.join(dir, '.env.example'));
    const template = await readFile(definition.env?.template ?? '', 'utf8');
    const composeText = await readFile(definition.compose ?? '', 'utf8');
    const generated = Object.keys(definition.env?.generate ?? {});
    expect(generated.length).toBeGreaterThan(0);
    for (const key of generated) {
      // an empty KEY= line, which the import fills, and a ${KEY} the compose file reads
      expect(template, key).toMatch(new RegExp(`^${key}=$`, 'm'));
      expect(composeText, key).toMatch(new RegExp(`\\$\\{${key}(:?-[^}]*)?\\}`));
    }
  });

  it('plans every image the compose file needs, profile services included, without pulling', async () => {
    const { definition, options, compose, plan } = await planBundle(name);
    const file = options.composeFile;
    const raw = parseYaml(await readFile(file, 'utf8'));
    const profiles = declaredProfiles(raw);
    const expected = imagesOf(await composeConfig(file, options.project, profiles), options.project);
    const images = [...new Set([...plan.pulls, ...plan.builds.map((b) => b.tags[0] ?? '')])].sort();
    expect(images).toEqual(expected);
    expect(plan.services.map((s) => s.name).sort()).toEqual(
      Object.keys((raw as { services: object }).services).sort(),
    );
    expect(compose.profiles).toEqual(profiles);
    expect(plan.extras).toEqual(definition.images.map(withTag).sort());
  });

  it('ships its stack files without tripping the secret check', async () => {
    const { options, plan } = await planBundle(name);
    const stack = await selectStackFiles({
      stackRoot: options.stackRoot,
      composeFile: options.composeFile,
      ...(options.env && { envTemplate: options.env.template }),
      globs: options.files,
      builds: plan.builds,
      fullContexts: options.buildCache,
      includeSecrets: false,
    });
    expect(stack.secrets).toEqual([]);
    expect(stack.files).toContain('docker-compose.yml');
    expect(stack.files).toContain('.env.example');
    expect(stack.files.some((f) => f === '.env' || f.endsWith('/.env'))).toBe(false);
    // every file the compose file mounts from the stack folder ships (the tiktoken cache is made by import)
    const composeText = await readFile(options.composeFile, 'utf8');
    const mounts = [...composeText.matchAll(/- \.\/([^:\s]+):/g)].map((m) => m[1] ?? '');
    for (const mount of mounts.filter((m) => m !== 'tiktoken')) {
      expect(
        stack.files.some((f) => f === mount || f.startsWith(`${mount}/`)),
        mount,
      ).toBe(true);
    }
  });
});

describe('bundle specifics', () => {
  it('agent-service: sqlite by default, the postgres profile adds postgres, and the plan ships both', async () => {
    const { options, plan } = await planBundle('agent-service');
    const services = await composeConfig(options.composeFile, options.project, ['postgres']);
    expect(services.agent?.profiles).toBeUndefined();
    expect(services.agent?.environment?.DB_TYPE).toBe('sqlite');
    expect(services.postgres).toMatchObject({ image: 'postgres:16.4-alpine', profiles: ['postgres'] });
    expect(plan.pulls).toEqual(['n8nio/n8n:1.95.3', 'postgres:16.4-alpine']);
    // narrowed to no profile, the same compose file plans only the default (sqlite) service
    const sqliteOnly = await planExport(
      await readCompose({ file: options.composeFile, project: options.project, profiles: [] }),
      options,
    );
    expect(sqliteOnly.pulls).toEqual(['n8nio/n8n:1.95.3']);
  });

  it('agent-platform: every service has a health check', async () => {
    const { plan } = await planBundle('agent-platform');
    expect(plan.services.map((s) => s.name).sort()).toEqual([
      'backend',
      'frontend',
      'mysql',
      'nginx',
      'redis',
    ]);
    expect(plan.services.filter((s) => !s.healthcheck)).toEqual([]);
  });

  it.each(['openai-gateway', 'agent-platform'])(
    '%s: ships the four tiktoken encodings and points TIKTOKEN_CACHE_DIR at the shipped cache',
    async (name) => {
      const { dir, definition, options } = await planBundle(name);
      expect([...definition.encodings].sort()).toEqual([...ALL_ENCODINGS].sort());
      const services = await composeConfig(options.composeFile, options.project, []);
      const users = Object.entries(services).filter(([, s]) => s.environment?.TIKTOKEN_CACHE_DIR);
      expect(users.length).toBeGreaterThan(0);
      for (const [service, s] of users) {
        const target = s.environment?.TIKTOKEN_CACHE_DIR;
        const mount = (s.volumes ?? []).map((v) => v.split(':')).find((v) => v[1] === target);
        // import places the cache in <target>/tiktoken, beside the compose file; read-only is enough
        expect(mount, service).toEqual([path.join(dir, 'tiktoken'), target, 'ro']);
      }
    },
  );

  it('chatbi-clickhouse: builds the MCP server from a pinned base and pulls the rest', async () => {
    const { plan } = await planBundle('chatbi-clickhouse');
    expect(plan.builds.map((b) => [b.service, b.tags[0], b.dockerfile.bases])).toEqual([
      ['mcp-clickhouse', 'offline-chatbi/mcp-clickhouse:0.1.11', ['python:3.12-slim']],
    ]);
    expect(plan.pulls).toEqual([
      'clickhouse/clickhouse-server:24.11.1.2557',
      'ghcr.io/berriai/litellm:main-v1.72.6-stable',
    ]);
  });
});
