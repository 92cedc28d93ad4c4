#!/usr/bin/env node
// The entry of offline.mjs, the whole CLI in one file. The CLI itself is carried as CommonJS source text and
// compiled through V8's code cache: Node 20 has no compile cache for ES modules, and compiling the 1.7 MB CLI
// was most of the start-up of every command (see importer-build.ts for the measurements).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { codeCacheFile, readCodeCache, writeCodeCache } from './code-cache.js';

/** Set by the build: the CLI as CommonJS, and its sha256. */
declare const OFFLINE_CLI_SOURCE: string;
declare const OFFLINE_CLI_SOURCE_HASH: string;

const file = fileURLToPath(import.meta.url);
const cacheFile = codeCacheFile(OFFLINE_CLI_SOURCE_HASH, process.argv.slice(2));
const cachedData = readCodeCache(cacheFile);
const script = new vm.Script(OFFLINE_CLI_SOURCE, {
  filename: file,
  ...(cachedData && { cachedData }),
});
if (cacheFile && (!cachedData || script.cachedDataRejected)) {
  // Written when the command is done, so the cache also holds the functions it compiled on the way.
  process.once('exit', () => writeCodeCache(cacheFile, script.createCachedData()));
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
