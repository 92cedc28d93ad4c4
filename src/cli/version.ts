import { readFileSync } from 'node:fs';

declare const OFFLINE_VERSION: string | undefined;

/** The package version (inlined as OFFLINE_VERSION in single-file builds). */
export function toolVersion(): string {
  if (typeof OFFLINE_VERSION === 'string') return OFFLINE_VERSION;
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'offline' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate: src/cli and dist/cli sit at different depths
    }
  }
  return '0.0.0';
}
