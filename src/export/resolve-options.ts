import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type BundleDefinition,
  COMPOSE_CANDIDATES,
  loadDefinition,
  NAME_PATTERN,
  type PullPolicy,
} from '../bundle/definition.js';
import type { Compression } from '../bundle/layout.js';
import { OfflineError } from '../errors.js';
import { sourceEntry } from '../selfcontained/importer-build.js';
import { resolveEncoding } from '../tiktoken/registry.js';
import { type ExportOptions, projectNameFor } from './options.js';

/** The export command's flags, as commander hands them over. */
export interface ExportFlags {
  file?: string;
  out?: string;
  name?: string;
  bundleVersion?: string;
  profile?: string[];
  compression?: string;
  splitSize?: number;
  pull?: string;
  platform?: string;
  encodings?: string;
  buildCache?: boolean;
  includeSecrets?: boolean;
  force?: boolean;
  withRuntime?: boolean;
}

const COMPRESSIONS: Compression[] = ['gzip', 'zstd', 'none'];
const PULLS: PullPolicy[] = ['missing', 'always', 'never'];

function usage(message: string, hint?: string): OfflineError {
  return new OfflineError('EUSAGE', message, hint ? { hint } : {});
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

async function findCompose(dir: string): Promise<string> {
  for (const candidate of COMPOSE_CANDIDATES) {
    const file = path.join(dir, candidate);
    if (await isFile(file)) return file;
  }
  throw usage(`no compose file in ${dir} (looked for ${COMPOSE_CANDIDATES.join(', ')})`, 'name it with -f');
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T))
    throw usage(`${flag} must be one of ${allowed.join(', ')}, not "${value}"`);
  return value as T;
}

/** --encodings: names the tiktoken registry knows, checked before any build (an empty list is refused). */
function encodingsFlag(value: string): string[] {
  const names = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (names.length === 0) throw usage('--encodings names no encoding (give e.g. cl100k_base,o200k_base)');
  for (const name of names) {
    try {
      resolveEncoding(name);
    } catch (error) {
      throw usage(
        `--encodings: ${(error as Error).message} (known encodings: ${(error as OfflineError).expected})`,
      );
    }
  }
  return names;
}

/** Merges the bundle definition (when given) with the flags; flags win. */
export async function resolveExportOptions(
  target: string | undefined,
  flags: ExportFlags,
): Promise<ExportOptions> {
  if (!flags.out) throw usage('--out DIR is required: the folder the bundle is written to');
  // The single executable is built from offline's source: where there is none, fail before any work.
  if (flags.withRuntime) await sourceEntry('cjs');
  const definition: BundleDefinition | undefined = target ? await loadDefinition(target) : undefined;
  const composeFile = flags.file
    ? path.resolve(flags.file)
    : (definition?.compose ?? (await findCompose(definition?.dir ?? process.cwd())));
  if (!(await isFile(composeFile))) throw usage(`compose file ${composeFile} not found`);
  const stackRoot = definition?.dir ?? path.dirname(composeFile);
  const name = flags.name ?? definition?.name ?? projectNameFor(path.basename(stackRoot));
  if (!NAME_PATTERN.test(name))
    throw usage(`bundle name "${name}" must match ${NAME_PATTERN.source}`, 'set it with --name');
  const version = flags.bundleVersion ?? definition?.version ?? '0.0.0';
  let env = definition?.env;
  if (!env && (await isFile(path.join(stackRoot, '.env.example')))) {
    env = { template: path.join(stackRoot, '.env.example'), generate: {} };
  }
  const profiles = flags.profile?.length ? flags.profile : definition?.profiles;
  const platform = flags.platform ?? definition?.platform;
  return {
    name,
    version,
    project: projectNameFor(name),
    composeFile,
    stackRoot,
    ...(profiles && { profiles }),
    extraImages: definition?.images ?? [],
    files: definition?.files ?? [],
    encodings: flags.encodings ? encodingsFlag(flags.encodings) : (definition?.encodings ?? []),
    buildCache: flags.buildCache ?? definition?.buildCache ?? false,
    pull: oneOf(flags.pull, PULLS, '--pull') ?? definition?.pull ?? 'missing',
    ...(platform && { platform }),
    ...(env && { env }),
    outDir: path.resolve(flags.out),
    compression: oneOf(flags.compression, COMPRESSIONS, '--compression') ?? 'gzip',
    ...(flags.splitSize !== undefined && { splitSize: flags.splitSize }),
    includeSecrets: flags.includeSecrets ?? false,
    force: flags.force ?? false,
    withRuntime: flags.withRuntime ?? false,
  };
}
