import { OfflineError } from '../errors.js';

/** The bundle format this tool writes and reads; see docs/bundle-format.md. */
export const BUNDLE_FORMAT = 'offline-bundle';
export const SCHEMA_VERSION = 1;

export type ImageRole = 'service' | 'extra' | 'base';

export interface BundleImage {
  /** Image ID: sha256 of the config JSON, stable across save and load. */
  id: string;
  tags: string[];
  os: string;
  architecture: string;
  variant?: string;
  size: number;
  role: ImageRole;
  /** The archive inside the bundle that holds it. */
  archive: string;
}

export interface BundleArchive {
  path: string;
  kind: 'images' | 'build-cache';
  /** IDs of the images it holds. */
  images: string[];
}

export interface BundleService {
  name: string;
  image: string;
  built: boolean;
  healthcheck: boolean;
  profiles: string[];
}

export interface BuildCacheEntry {
  service: string;
  /** The build context inside the bundle (stack/...). */
  context: string;
  /** Relative to the context. */
  dockerfile: string;
  /** The service's build args and target, so a rebuild asks for the same build (absent: none). */
  args?: Record<string, string>;
  target?: string;
  stages: { target: string; tag: string; id: string }[];
  bases: string[];
}

export interface TiktokenEntry {
  encoding: string;
  url: string;
  /** Path inside the bundle: tiktoken/<sha1 of url>. */
  file: string;
  sha256: string;
  size: number;
}

export type GeneratedValue = { kind: 'hex' | 'base64'; bytes: number } | { kind: 'uuid' };

export interface BundleFile {
  path: string;
  size: number;
  sha256: string;
}

export interface BundleRuntime {
  /** The single-file importer: `node offline.mjs import .` */
  importer: string;
  /** The Node versions it runs on. */
  node: string;
  /** The POSIX sh importer (sh, coreutils or busybox, docker). */
  script: string;
  /** With --with-runtime: a Node single executable (`./offline import .`) and the platform it runs on. */
  executable?: string;
  platform?: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  schemaVersion: number;
  tool: { name: string; version: string };
  createdAt: string;
  name: string;
  version: string;
  project: string;
  source: { engine: { version: string; os: string; arch: string }; compose: string };
  compose: { file: string; profiles: string[] };
  services: BundleService[];
  images: BundleImage[];
  archives: BundleArchive[];
  buildCaches: BuildCacheEntry[];
  tiktoken: { dir: string; entries: TiktokenEntry[] };
  env?: { template: string; generate: Record<string, GeneratedValue> };
  files: BundleFile[];
  /** The importers the bundle carries (docs/bundle-format.md section 3). */
  runtime?: BundleRuntime;
}

/**
 * Parses manifest.json text and checks what a reader relies on: the format marker, a schema version this
 * tool knows, and the arrays being arrays. `source` names the file for messages.
 */
export function parseManifest(text: string, source: string): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new OfflineError('EMANIFEST', `${source}: not valid JSON (${(error as Error).message})`, {
      file: source,
    });
  }
  const m = raw as Partial<BundleManifest>;
  if (typeof m !== 'object' || m === null || m.format !== BUNDLE_FORMAT) {
    throw new OfflineError('EFORMAT', `${source}: not an offline bundle manifest`, {
      file: source,
      expected: BUNDLE_FORMAT,
      found: String((m as { format?: unknown } | null)?.format),
    });
  }
  if (m.schemaVersion !== SCHEMA_VERSION) {
    throw new OfflineError(
      'EFORMAT',
      `${source}: bundle format version ${m.schemaVersion} is not supported`,
      {
        file: source,
        expected: SCHEMA_VERSION,
        found: String(m.schemaVersion),
        hint: 'use the offline version that made this bundle (the bundle carries it as offline.mjs)',
      },
    );
  }
  for (const key of ['services', 'images', 'archives', 'buildCaches', 'files'] as const) {
    if (!Array.isArray(m[key])) {
      throw new OfflineError('EMANIFEST', `${source}: "${key}" is missing or not a list`, { file: source });
    }
  }
  if (!m.tiktoken || !Array.isArray(m.tiktoken.entries)) {
    throw new OfflineError('EMANIFEST', `${source}: "tiktoken.entries" is missing or not a list`, {
      file: source,
    });
  }
  return m as BundleManifest;
}

/** Serialises a manifest the same way every time (two-space JSON, trailing newline). */
export function formatManifest(manifest: BundleManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
