import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OfflineError } from '../errors.js';
import { importBuildTool } from './dev-import.js';

/** The repository root, from src/selfcontained or dist/selfcontained (both two levels down). */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** Where `make build` writes the single-file importer. */
export function builtImporterPath(): string {
  return path.join(packageRoot(), 'dist', 'offline.mjs');
}

// CJS dependencies (dockerode, ssh2, tar's helpers) call require() and use __dirname; an ES module has neither.
const BANNER = [
  "import { createRequire as __offlineCreateRequire } from 'node:module';",
  "import { fileURLToPath as __offlineFileUrl } from 'node:url';",
  'const require = __offlineCreateRequire(import.meta.url);',
  'const __filename = __offlineFileUrl(import.meta.url);',
  "const __dirname = __offlineFileUrl(new URL('.', import.meta.url));",
].join(' ');

/**
 * Optional modules that dependencies try inside try/catch and do without: ssh2's crypto addon and
 * cpu-features (native .node files, which a single file cannot carry) and debug's supports-color (not
 * installed). Each becomes a module that throws on load, so the fallback runs without touching the disk (a
 * single executable's require() would warn for any non-built-in module).
 */
const optionalAbsent = {
  name: 'optional-absent',
  setup(build: {
    onResolve(o: { filter: RegExp }, f: (a: { path: string }) => { path: string; namespace: string }): void;
    onLoad(o: { filter: RegExp; namespace: string }, f: () => { contents: string }): void;
  }) {
    build.onResolve({ filter: /(\.node|^supports-color)$/ }, (args) => ({
      path: args.path,
      namespace: 'optional-absent',
    }));
    build.onLoad({ filter: /.*/, namespace: 'optional-absent' }, () => ({
      contents: "throw new Error('optional module left out of the single-file build');",
    }));
  },
};

/** Set by the single-file builds themselves ('esm' or 'cjs'): they carry no source to build from. */
declare const OFFLINE_SINGLE_FILE: string | undefined;

export type ImporterFormat = 'esm' | 'cjs';

/**
 * Builds the CLI into one file with every dependency inlined (esbuild: platform node, target node20). 'esm'
 * is offline.mjs (`node offline.mjs import .`); 'cjs' feeds a Node single executable, whose main script must
 * be CommonJS. Optional native addons stay out (see optionalAbsent). esbuild is a devDependency: only a checkout builds.
 */
export async function buildImporter(outFile: string, version: string, format: ImporterFormat = 'esm') {
  if (typeof OFFLINE_SINGLE_FILE === 'string') {
    throw new OfflineError(
      'EUSAGE',
      `building a ${format} importer needs the source; this is a single-file build`,
      {
        hint: 'export --with-runtime from a checkout of offline (make build, then node dist/cli/main.js)',
      },
    );
  }
  const esbuild = await importBuildTool<typeof import('esbuild')>('esbuild', 'build the bundled importers');
  await mkdir(path.dirname(outFile), { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(packageRoot(), 'src', 'cli', 'main.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    // The builders themselves stay out: only a checkout builds importers, and it has them installed.
    external: ['esbuild', 'postject'],
    plugins: [optionalAbsent],
    ...(format === 'esm' && { banner: { js: BANNER } }),
    define: {
      OFFLINE_VERSION: JSON.stringify(version),
      OFFLINE_SINGLE_FILE: JSON.stringify(format),
    },
    legalComments: 'none',
    logLevel: 'error',
  });
}
