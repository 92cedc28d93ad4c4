import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { OfflineError } from '../errors.js';
import { assertSafeRelativePath } from '../fs/safe-path.js';
import { parseYaml } from '../fs/yaml.js';
import { resolveEncoding } from '../tiktoken/registry.js';
import type { GeneratedValue } from './manifest.js';

export const DEFINITION_FILE = 'bundle.yaml';
export const COMPOSE_CANDIDATES = [
  'docker-compose.yml',
  'docker-compose.yaml',
  'compose.yaml',
  'compose.yml',
];
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
const PULL_POLICIES = ['missing', 'always', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** A parsed bundles/<name>/bundle.yaml (docs/bundle-format.md section 5). Paths are absolute. */
export interface BundleDefinition {
  file: string;
  dir: string;
  name: string;
  version: string;
  compose?: string;
  profiles?: string[];
  images: string[];
  files: string[];
  encodings: string[];
  buildCache?: boolean;
  pull?: PullPolicy;
  platform?: string;
  env?: { template: string; generate: Record<string, GeneratedValue> };
}

const KNOWN_KEYS = new Set([
  'name',
  'version',
  'compose',
  'profiles',
  'images',
  'files',
  'tiktoken',
  'buildCache',
  'pull',
  'platform',
  'env',
]);

class FieldReader {
  constructor(readonly file: string) {}

  fail(field: string, why: string, found?: unknown): never {
    throw new OfflineError('EUSAGE', `${this.file}: "${field}" ${why}`, {
      file: this.file,
      ...(found !== undefined && { found: typeof found === 'string' ? found : JSON.stringify(found) }),
    });
  }

  string(value: unknown, field: string, pattern?: RegExp): string {
    if (typeof value === 'number') value = String(value);
    if (typeof value !== 'string' || value === '') this.fail(field, 'must be a non-empty string', value);
    if (pattern && !pattern.test(value)) this.fail(field, `must match ${pattern.source}`, value);
    return value;
  }

  stringList(value: unknown, field: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(field, 'must be a list of strings', value);
    return value.map((item, i) => this.string(item, `${field}[${i}]`));
  }

  /** A tiktoken encoding, alias or model name the registry knows (checked here, not after a long build). */
  encoding(name: string, index: number): string {
    try {
      resolveEncoding(name);
    } catch (error) {
      this.fail(
        `tiktoken.encodings[${index}]`,
        `is not a tiktoken encoding or model offline knows (known encodings: ${(error as OfflineError).expected})`,
        name,
      );
    }
    return name;
  }

  relativePath(value: unknown, field: string): string {
    const text = this.string(value, field);
    try {
      return assertSafeRelativePath(text, this.file);
    } catch {
      return this.fail(field, 'must be a relative path inside the bundle folder', text);
    }
  }
}

function parseGenerate(read: FieldReader, raw: unknown): Record<string, GeneratedValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) read.fail('env.generate', 'must be a map', raw);
  const out: Record<string, GeneratedValue> = {};
  for (const [key, spec] of Object.entries(raw as Record<string, unknown>)) {
    const field = `env.generate.${key}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) read.fail(field, 'is not a valid variable name', key);
    const s = (spec ?? {}) as { kind?: unknown; bytes?: unknown };
    if (s.kind === 'uuid') out[key] = { kind: 'uuid' };
    else if (s.kind === 'hex' || s.kind === 'base64') {
      const bytes = s.bytes ?? 32;
      if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 8 || bytes > 1024) {
        read.fail(`${field}.bytes`, 'must be a whole number from 8 to 1024', bytes);
      }
      out[key] = { kind: s.kind, bytes };
    } else read.fail(`${field}.kind`, 'must be hex, base64 or uuid', s.kind);
  }
  return out;
}

/** Validates a parsed bundle.yaml; every problem is an EUSAGE naming the file and the field. */
export function validateDefinition(raw: unknown, file: string): BundleDefinition {
  const read = new FieldReader(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    read.fail('(top level)', 'must be a map');
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!KNOWN_KEYS.has(key)) read.fail(key, `is not a known field (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const dir = path.dirname(file);
  const tiktoken = (doc.tiktoken ?? {}) as { encodings?: unknown };
  if (typeof tiktoken !== 'object' || Array.isArray(tiktoken))
    read.fail('tiktoken', 'must be a map', tiktoken);
  if (doc.buildCache !== undefined && typeof doc.buildCache !== 'boolean') {
    read.fail('buildCache', 'must be true or false', doc.buildCache);
  }
  if (doc.pull !== undefined && !PULL_POLICIES.includes(doc.pull as PullPolicy)) {
    read.fail('pull', `must be one of ${PULL_POLICIES.join(', ')}`, doc.pull);
  }
  let env: BundleDefinition['env'];
  if (doc.env !== undefined && doc.env !== null) {
    if (typeof doc.env !== 'object' || Array.isArray(doc.env)) read.fail('env', 'must be a map', doc.env);
    const e = doc.env as { template?: unknown; generate?: unknown };
    env = {
      template: path.join(dir, read.relativePath(e.template, 'env.template')),
      generate: parseGenerate(read, e.generate),
    };
  }
  return {
    file,
    dir,
    name: read.string(doc.name, 'name', NAME_PATTERN),
    version: read.string(doc.version, 'version', VERSION_PATTERN),
    ...(doc.compose !== undefined && { compose: path.join(dir, read.relativePath(doc.compose, 'compose')) }),
    ...(doc.profiles !== undefined && { profiles: read.stringList(doc.profiles, 'profiles') }),
    images: read.stringList(doc.images, 'images'),
    files: read.stringList(doc.files, 'files').map((f, i) => read.relativePath(f, `files[${i}]`)),
    encodings: read.stringList(tiktoken.encodings, 'tiktoken.encodings').map((e, i) => read.encoding(e, i)),
    ...(doc.buildCache !== undefined && { buildCache: doc.buildCache as boolean }),
    ...(doc.pull !== undefined && { pull: doc.pull as PullPolicy }),
    ...(doc.platform !== undefined && { platform: read.string(doc.platform, 'platform') }),
    ...(env && { env }),
  };
}

/** Reads bundles/<name>/bundle.yaml (or a definition file given directly). */
export async function loadDefinition(target: string): Promise<BundleDefinition> {
  const info = await stat(target).catch(() => undefined);
  if (!info)
    throw new OfflineError('EUSAGE', `${target}: no such bundle folder or definition file`, { file: target });
  const file = path.resolve(info.isDirectory() ? path.join(target, DEFINITION_FILE) : target);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new OfflineError('EUSAGE', `${file}: definition file not found`, {
      file,
      hint: `create ${DEFINITION_FILE} with at least "name" and "version" (docs/bundle-format.md section 5)`,
    });
  });
  let raw: unknown;
  try {
    raw = await parseYaml(text);
  } catch (error) {
    throw new OfflineError('EUSAGE', `${file}: not valid YAML (${(error as Error).message})`, { file });
  }
  return validateDefinition(raw, file);
}
