import type { PullPolicy } from '../bundle/definition.js';
import type { Compression } from '../bundle/layout.js';
import type { GeneratedValue } from '../bundle/manifest.js';

/** Everything an export needs, merged from the bundle definition and the command-line flags. */
export interface ExportOptions {
  name: string;
  version: string;
  /** The compose project name: the bundle name as compose accepts it. */
  project: string;
  /** Absolute path of the compose file. */
  composeFile: string;
  /** The folder whose files ship under stack/ (the definition's folder, else the compose file's). */
  stackRoot: string;
  /** Narrow to these profiles; undefined: every profile. */
  profiles?: string[];
  extraImages: string[];
  /** Globs, relative to stackRoot, of extra stack files to ship. */
  files: string[];
  encodings: string[];
  buildCache: boolean;
  pull: PullPolicy;
  platform?: string;
  env?: { template: string; generate: Record<string, GeneratedValue> };
  outDir: string;
  compression: Compression;
  splitSize?: number;
  includeSecrets: boolean;
  force: boolean;
  /** Also ship a Node single executable for this host's platform (`./offline import .` without Node). */
  withRuntime?: boolean;
}

/** Compose's project name rules: lower case, only [a-z0-9_-]. */
export function projectNameFor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

/** The image names compose gives a built service without `image:`: v1 `<project>_<service>`, v2 with `-`. */
export function defaultImageNames(project: string, service: string): string[] {
  return [`${project}_${service}:latest`, `${project}-${service}:latest`];
}

/** "name" -> "name:latest"; a digest or an explicit tag stays as it is. */
export function withTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  return ref.slice(slash + 1).includes(':') ? ref : `${ref}:latest`;
}
