import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OfflineError } from '../errors.js';
import { importBuildTool } from './dev-import.js';
import { embedCli } from './embedded-cli.js';
import { launcherHead } from './launcher.js';

/**
 * The repository root: two levels up from src/selfcontained or dist/selfcontained, one up from dist/offline.mjs
 * (the `offline` bin). Only an ES module knows its own path: not the single executable's CommonJS script.
 */
export function packageRoot(): string {
  return fileURLToPath(new URL(typeof OFFLINE_SINGLE_FILE === 'string' ? '../' : '../../', import.meta.url));
}

/** Where `make build` writes the single-file importer. */
export function builtImporterPath(): string {
  return path.join(packageRoot(), 'dist', 'offline.mjs');
}

/**
 * The CLI compiled to CommonJS, as offline.mjs runs it: one function of what a CommonJS module gets, plus
 * import.meta.url (packageRoot and stageImporter use it), strict as the ES modules it was written as.
 */
const CLI_PARAMETERS = 'exports, require, module, __filename, __dirname, __offlineImportMetaUrl';
const wrapCli = (code: string) =>
  `(function (${CLI_PARAMETERS}) {"use strict";\n${code.replace(/^#!.*\n/, '')}\n})`;

/** A stand-in for built-in module `id` that loads it when one of its properties is first read. */
function deferred(id: string): string {
  return `module.exports = new Proxy({}, { get: (_, key) => require(${JSON.stringify(id)})[key] });`;
}

/**
 * Modules the single file leaves out or defers, each replaced by a few lines (esbuild resolves `request` from a
 * file whose path matches `importer`):
 * - optional ones that dependencies try inside try/catch and do without: ssh2's crypto addon and cpu-features
 *   (native .node files, which a single file cannot carry) and debug's supports-color (not installed). Each
 *   throws on load, so the fallback runs without touching the disk (a single executable's require() would
 *   warn for any non-built-in module);
 * - ones offline never reaches, which would cost start-up to parse and evaluate (~150 ms of gRPC and
 *   protobuf, ssh2's ciphers): dockerode's BuildKit session and progress decoder, used only by buildImage with
 *   version "2" and followProgress (offline builds with the classic builder and reads every stream object
 *   itself: src/docker/json-stream.ts), and ssh2, docker-modem's ssh:// transport (DOCKER_HOST is unix://,
 *   tcp:// or http(s):// only: src/docker/address.ts). Reaching one throws a clear error;
 * - built-in modules loaded on first use instead of at start-up: docker-modem's https and commander's
 *   child_process, each by a stand-in that requires it when a property of it is read.
 */
const LEFT_OUT: { request: RegExp; importer?: RegExp; contents: string }[] = [
  {
    request: /(\.node|^supports-color)$/,
    contents: "throw new Error('optional module left out of the single-file build');",
  },
  {
    request: /^\.\/(session|buildkit)$/,
    importer: /dockerode[\\/]lib[\\/]docker\.js$/,
    // session.js exports withSession, which docker.js takes at load; buildkit.js exports followProgress.
    contents:
      "const unsupported = () => { throw new Error('dockerode BuildKit support is not part of offline'); }; module.exports = Object.assign(unsupported, { followProgress: unsupported });",
  },
  {
    // docker-modem requires https at load, for an https:// engine; one on a unix socket never needs it, and
    // Node's TLS took about 1 ms of each start-up (2 cores). docker-modem calls its request() through the
    // prototype chain (http.js), which the proxy answers.
    request: /^https$/,
    importer: /docker-modem[\\/]lib[\\/]http\.js$/,
    contents: deferred('node:https'),
  },
  {
    // commander spawns only executable subcommands, which offline has none of (about 1 ms of each start-up).
    request: /^node:child_process$/,
    importer: /commander[\\/]lib[\\/]command\.js$/,
    contents: deferred('node:child_process'),
  },
  {
    request: /^ssh2$/,
    contents:
      "module.exports = { Client: class { constructor() { throw new Error('ssh:// Docker hosts are not supported'); } } };",
  },
];

const leftOut = {
  name: 'left-out',
  setup(build: {
    onResolve(
      o: { filter: RegExp },
      f: (a: { path: string; importer: string }) => { path: string; namespace: string } | undefined,
    ): void;
    onLoad(o: { filter: RegExp; namespace: string }, f: (a: { path: string }) => { contents: string }): void;
  }) {
    build.onResolve({ filter: new RegExp(LEFT_OUT.map((m) => m.request.source).join('|')) }, (args) => {
      const index = LEFT_OUT.findIndex(
        (m) => m.request.test(args.path) && (!m.importer || m.importer.test(args.importer)),
      );
      return index < 0 ? undefined : { path: String(index), namespace: 'left-out' };
    });
    build.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: LEFT_OUT[Number(args.path)]?.contents ?? '',
    }));
  },
};

export type ImporterFormat = 'esm' | 'cjs';

/**
 * Builds the CLI into one file with every dependency inlined (esbuild: platform node, target node20). 'esm'
 * is offline.mjs (`node offline.mjs import .`, and the `offline` bin): a small loader (single-file-main.ts)
 * carrying the CLI as CommonJS source in the comment of a trailing function (embedded-cli.ts), which it
 * compiles through V8's code cache.
 * Its head is launcher.ts's: run as a program, sh starts Node on it as a script, without
 * NODE_EXTRA_CA_CERTS for the commands that never open a TLS connection; `node offline.mjs` runs it as the ES
 * module its name makes it.
 * 'cjs' feeds a Node single executable, whose main script must be CommonJS. Some modules stay out (see
 * LEFT_OUT). It builds from a checkout's source with esbuild, a devDependency: from source, from the tsc
 * build, or from dist/offline.mjs in a checkout; not from a copy of offline.mjs in a bundle, nor from the
 * single executable.
 *
 * Why the code cache: Node 20 caches no compiled ES modules, and compiling the CLI (1.7 MB before it was
 * minified) was most of each command's start-up. Medians of interleaved runs on 2 cores, the ES module build
 * against this one with its cache: `offline --version` 226 -> 201 ms (node -e 0: 129 ms); a re-import of the
 * import benchmark's bundle (every image present) 396 -> 319 ms.
 * Why minified (1.7 -> 0.83 MB): a re-import of that bundle, each build exporting its own, 386 -> 352 ms
 * (medians of 11 interleaved runs; `offline --version` 176 -> 166 ms).
 */
export async function buildImporter(outFile: string, version: string, format: ImporterFormat = 'esm') {
  const entry = await sourceEntry(format);
  const esbuild = await importBuildTool<typeof import('esbuild')>('esbuild', 'build the bundled importers');
  await mkdir(path.dirname(outFile), { recursive: true });
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'error',
  } as const;
  const define = { OFFLINE_VERSION: JSON.stringify(version), OFFLINE_SINGLE_FILE: JSON.stringify(format) };
  if (format === 'cjs') {
    await esbuild.build({ ...common, ...cliBuild(entry), outfile: outFile, format, define });
    return;
  }
  const cli = await esbuild.build({
    ...common,
    ...cliBuild(entry),
    format: 'cjs',
    write: false,
    define: { ...define, 'import.meta.url': '__offlineImportMetaUrl' },
  });
  const source = wrapCli(cli.outputFiles?.[0]?.text ?? '');
  // The loader runs as a script given require (the launcher's way) or as an ES module (single-file-main.ts):
  // CommonJS output, whose require() an ES module run takes from process.getBuiltinModule (built-in modules are
  // all the loader asks for).
  const loader = await esbuild.build({
    ...common,
    entryPoints: [path.join(path.dirname(entry), '..', 'selfcontained', 'single-file-main.ts')],
    format: 'cjs',
    banner: { js: 'var require = typeof require === "function" ? require : process.getBuiltinModule;' },
    write: false,
    define: { OFFLINE_CLI_SOURCE_HASH: JSON.stringify(createHash('sha256').update(source).digest('hex')) },
  });
  const loaderText = (loader.outputFiles?.[0]?.text ?? '').replace(/^#!.*\n/, '');
  await writeFile(outFile, `${launcherHead()}${loaderText}\n${embedCli(source)}`);
  // A program: the `offline` bin, and `./offline.mjs` in a bundle's folder, start through the launcher.
  await chmod(outFile, 0o755);
}

/** The CLI's entry, its dependencies inlined but for the left-out modules and the build tools. */
function cliBuild(entry: string) {
  return {
    entryPoints: [entry],
    // The builders themselves stay out: only a checkout builds importers, and it has them installed.
    external: ['esbuild', 'postject'],
    plugins: [leftOut],
    // Minified: every start-up reads, scans and compiles the CLI, and every bundle carries and hashes it.
    // keepNames keeps the names of functions and classes that error output and `--debug` stacks show.
    minify: true,
    keepNames: true,
  };
}

/** src/cli/main.ts of the checkout this runs from, or a usage error where there is none (a bundle's copy). */
export async function sourceEntry(format: ImporterFormat): Promise<string> {
  const singleFile = typeof OFFLINE_SINGLE_FILE === 'string' ? OFFLINE_SINGLE_FILE : undefined;
  const root = singleFile === 'cjs' ? undefined : packageRoot();
  const entry = root === undefined ? undefined : path.join(root, 'src', 'cli', 'main.ts');
  if (root !== undefined && entry !== undefined && (await isCheckout(root, entry))) return entry;
  throw new OfflineError(
    'EUSAGE',
    `building the ${format === 'esm' ? 'single-file importer' : 'single executable'} needs offline's source, and this offline runs outside a checkout`,
    {
      file: entry ?? process.execPath,
      hint: 'export --with-runtime with the offline of a checkout (make build, then offline or node dist/offline.mjs)',
    },
  );
}

/** A checkout of offline: its package.json names it, and the CLI's source is there. */
async function isCheckout(root: string, entry: string): Promise<boolean> {
  const pkg = (await readFile(path.join(root, 'package.json'), 'utf8')
    .then(JSON.parse)
    .catch(() => undefined)) as { name?: unknown } | undefined;
  return pkg?.name === 'offline' && Boolean((await stat(entry).catch(() => undefined))?.isFile());
}
