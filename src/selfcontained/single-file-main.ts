// The entry of offline.mjs, the whole CLI in one file. The CLI itself is carried as CommonJS source in a
// comment, the body of a function at the end of the file (embedded-cli.ts), and compiled through V8's code
// cache: Node 20 has no compile cache for ES modules, and compiling the CLI (1.7 MB before it was minified) was
// most of the start-up of every command (see importer-build.ts for the measurements).
//
// This loader runs two ways: as a script given require and __filename when the launcher starts it (launcher.ts,
// the faster start), and as an ES module under `node offline.mjs`. So it has no import statement and no
// import.meta once built: esbuild writes its imports as require() calls, and the build gives an ES module run a
// require() for built-in modules (importer-build.ts).
import './refuse-old-node.js';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { codeCacheFile, readCodeCache, writeCodeCache } from './code-cache.js';
import { extractCli } from './embedded-cli.js';

/**
 * How long after the CLI is compiled a run still going writes its code cache. V8 drops the bytecode of
 * functions unused for a while when it collects garbage: a first import of the benchmark bundle had lost most
 * of its start-up's between 1.2 s (a cache of 693 KB) and 2.1 s (369 KB). Its caches taken at 0.3 and 1.2 s
 * made re-imports at least as fast as a re-import's own cache (293 and 306 ms against 354 ms; 384 ms with the
 * one taken at 2.1 s, about as slow as none: means of 20). Half a second leaves room for a machine that
 * collects garbage sooner.
 */
const CHECKPOINT_MS = 500;

// This file's real path: the launcher gives it; an ES module run is Node's main module, named by argv[1]
// (absolute, but not resolved through symlinks as import.meta.url was). Under `node -e`, a global __filename
// is '[eval]': hence the check for a path.
const file =
  typeof __filename === 'string' && path.isAbsolute(__filename)
    ? __filename
    : realpathSync(process.argv[1] ?? '.');
// The carrier is declared at the end of this module (embedded-cli.ts): its text comes from the source V8 holds.
const source = typeof offlineCliCarrier === 'function' ? extractCli(offlineCliCarrier.toString()) : undefined;
if (source === undefined) {
  process.stderr.write(`error: ${file}: damaged, the CLI it carries is missing; copy offline.mjs again\n`);
  process.exit(1);
}
const cacheFile = codeCacheFile(OFFLINE_CLI_SOURCE_HASH, process.argv.slice(2));
const cachedData = readCodeCache(cacheFile);
const script = new vm.Script(source, {
  filename: file,
  ...(cachedData && { cachedData }),
});
if (cacheFile && (!cachedData || script.cachedDataRejected)) writeCacheOnce(cacheFile, script);
const run = script.runInThisContext() as (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
  importMetaUrl: string,
) => void;
const cliModule = { exports: {} };
run(cliModule.exports, createRequire(file), cliModule, file, path.dirname(file), pathToFileURL(file).href);

/**
 * Writes the cache once, with the functions compiled so far: CHECKPOINT_MS from now, or at the run's end if it
 * ends sooner. The old rule, at the end of any run shorter than 2 s, let a run that ended just under 2 s write
 * a cache that may already have lost its start-up (a first import's had by 2.1 s), kept until the next build;
 * and a first import, too long to write one, left the first re-import to run without.
 */
function writeCacheOnce(file: string, compiled: vm.Script): void {
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    writeCodeCache(file, compiled.createCachedData());
  };
  setTimeout(write, CHECKPOINT_MS).unref();
  process.once('exit', write);
}
