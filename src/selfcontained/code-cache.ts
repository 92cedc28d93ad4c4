import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where offline.mjs keeps V8's code cache for the CLI it carries, one file per build, Node version and command
 * (each command compiles different functions): `$OFFLINE_CODE_CACHE`, else `$XDG_CACHE_HOME/offline/code`,
 * else `~/.cache/offline/code`. `OFFLINE_CODE_CACHE=off` (or `0`) turns it off (undefined); so does a host
 * without a home folder.
 */
export function codeCacheFile(
  sourceHash: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const setting = env.OFFLINE_CODE_CACHE;
  if (setting === 'off' || setting === '0') return undefined;
  let dir = setting;
  if (!dir) {
    const home = env.XDG_CACHE_HOME || homeCache();
    if (!home) return undefined;
    dir = path.join(home, 'offline', 'code');
  }
  const command = argv.find((arg) => !arg.startsWith('-'))?.replace(/[^a-z0-9-]/gi, '') || 'none';
  const runtime = `${process.version}-${process.arch}`;
  return path.join(dir, `${sourceHash.slice(0, 16)}-${runtime}-${command}.v8`);
}

function homeCache(): string | undefined {
  try {
    return path.join(os.homedir(), '.cache');
  } catch {
    return undefined;
  }
}

/** The cache's bytes, or undefined when there is none yet (or it cannot be read). */
export function readCodeCache(file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * How many builds' caches are kept for one Node version and command, the one just written among them (a host
 * may run several copies of offline: the installed one, a bundle's).
 */
export const KEEP_BUILDS = 4;

/**
 * Writes the cache through a temp file renamed into place, so a reader sees a whole file or none, then keeps
 * only the KEEP_BUILDS newest caches for the same Node version and command (a developer who rebuilds often
 * would otherwise collect one set per build). A cache is an optimisation: any failure (a read-only home, a
 * full disk) leaves things as they were, silently.
 */
export function writeCodeCache(file: string, data: Buffer): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    makeFolders(path.dirname(file));
    writeFileSync(temp, data);
    renameSync(temp, file);
    pruneOldBuilds(file);
  } catch {
    // Even the clean-up may fail (a cache folder this user cannot search): still silent.
    try {
      rmSync(temp, { force: true });
    } catch {}
  }
}

function pruneOldBuilds(file: string): void {
  const dir = path.dirname(file);
  const sameRuntimeAndCommand = path.basename(file).replace(/^[0-9a-f]{16}/, '');
  const builds = readdirSync(dir)
    .filter((name) => /^[0-9a-f]{16}-/.test(name) && name.slice(16) === sameRuntimeAndCommand)
    .map((name) => ({ name, mtime: statSync(path.join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(KEEP_BUILDS)) rmSync(path.join(dir, old.name), { force: true });
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync loops forever where mkdir keeps failing with
 * ENOENT under an existing parent (in /proc, for one); here any failure ends it.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = path.dirname(at)) {
    if (at === path.dirname(at)) break;
    missing.unshift(at);
  }
  for (const folder of missing) mkdirSync(folder);
}
