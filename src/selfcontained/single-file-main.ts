#!/usr/bin/env node
// The entry of offline.mjs, the whole CLI in one file. The CLI itself is carried as CommonJS source in a
// comment at the end of the file (embedded-cli.ts) and compiled through V8's code cache: Node 20 has no
// compile cache for ES modules, and compiling the CLI (1.7 MB before it was minified) was most of the
// start-up of every command (see importer-build.ts for the measurements).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { codeCacheFile, readCodeCache, writeCodeCache } from './code-cache.js';
import { extractCli } from './embedded-cli.js';
import { nodeTooOld } from './node-version.js';

/**
 * A run this long may have had its start-up's bytecode dropped (a first import had), and its code cache would
 * be a poor one. The threshold is a choice: what was measured is a first import's cache, not where the loss
 * begins.
 */
const LONG_RUN_MS = 2000;

const tooOld = nodeTooOld(process.versions.node);
if (tooOld !== undefined) {
  process.stderr.write(`error: ${tooOld}\n`);
  process.exit(1);
}
const file = fileURLToPath(import.meta.url);
const source = extractCli(readFileSync(file, 'latin1'));
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
if (cacheFile && (!cachedData || script.cachedDataRejected)) {
  // Written when the command is done, so the cache also holds the functions it compiled on the way; but not
  // after a long run. V8 drops the bytecode of functions unused for a while when it collects garbage, so the
  // cache a first import wrote lacked most of start-up (372 KB against 625 KB after a re-import): re-imports of
  // the bench bundle took 354 ms with it, 306 ms with a re-import's cache and 369 ms with none (medians of 11
  // interleaved runs), and 392 ms against 315 ms with this rule in a second set. A later, shorter run writes it.
  process.once('exit', () => {
    if (performance.now() < LONG_RUN_MS) writeCodeCache(cacheFile, script.createCachedData());
  });
}
const run = script.runInThisContext() as (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
  importMetaUrl: string,
) => void;
const module = { exports: {} };
run(module.exports, createRequire(import.meta.url), module, file, path.dirname(file), import.meta.url);
