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
