import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { STACK_DIR } from '../bundle/layout.js';
import { OfflineError } from '../errors.js';
import { toPosix } from '../fs/safe-path.js';
import { walkFiles } from '../fs/walk.js';
import { type IgnoreRules, patternMatcher, readDockerignore, sentToEngine } from './dockerignore.js';
import type { PlannedBuild } from './plan.js';
import { secretByContents, secretByName } from './secrets.js';

export interface StackFileRequest {
  stackRoot: string;
  composeFile: string;
  envTemplate?: string;
  /** Globs relative to stackRoot. */
  globs: readonly string[];
  builds: readonly PlannedBuild[];
  /**
   * Ship build contexts in full (for rebuilding offline with build caches). Otherwise only each context's
   * Dockerfile and .dockerignore ship: enough for the compose file's build paths to exist (docker-compose v1
   * checks them even with --no-build) without carrying every source file twice (once in the image).
   */
  fullContexts: boolean;
  includeSecrets: boolean;
}

export interface StackFiles {
  /** POSIX paths relative to stackRoot, sorted. */
  files: string[];
  /** Files shipped although they look like secrets (with --include-secrets). */
  secrets: string[];
}

function relativeInside(root: string, file: string, what: string): string {
  const relative = path.relative(root, file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new OfflineError('EUSAGE', `${what} ${file} is outside the stack folder ${root}`, {
      file,
      hint: 'keep the compose file, build contexts and config files inside the bundle folder',
    });
  }
  return toPosix(relative);
}

const IGNORE_ALL: IgnoreRules = { ignores: () => true, hasExceptions: false };

/**
 * Files of a build context that ship, relative to stackRoot: its Dockerfile and .dockerignore, and with `full`
 * whatever the .dockerignore keeps. What does not ship is not looked at, so a broken link in an ignored
 * node_modules does not stop the export; a broken link that would ship does (EUNSAFE_PATH).
 */
async function contextFiles(root: string, build: PlannedBuild, full: boolean): Promise<string[]> {
  const base = toPosix(path.relative(root, build.build.context));
  if (base.startsWith('..') || path.isAbsolute(base)) {
    throw new OfflineError(
      'EUSAGE',
      `build context of "${build.service}" (${build.build.context}) is outside the stack folder ${root}`,
      {
        file: build.build.context,
        hint: 'keep the compose file, build contexts and config files inside the bundle folder',
      },
    );
  }
  const context = build.build.context;
  const dockerfile = toPosix(path.relative(context, path.resolve(context, build.build.dockerfile)));
  // In full, what the engine gets; otherwise as if the .dockerignore left out everything but what always goes.
  const shipped = sentToEngine(full ? await readDockerignore(context) : IGNORE_ALL, dockerfile);
  const files = await walkFiles(context, {
    skip: (relative, directory) => !shipped(relative, directory),
  });
  return files
    .filter((f) => shipped(f.relative, false))
    .map((f) => (base === '' ? f.relative : `${base}/${f.relative}`));
}

/** Decides which stack files ship: the compose file, the env template, the globs and the build contexts. */
export async function selectStackFiles(request: StackFileRequest): Promise<StackFiles> {
  const root = path.resolve(request.stackRoot);
  const chosen = new Set<string>([relativeInside(root, request.composeFile, 'the compose file')]);
  if (request.envTemplate) chosen.add(relativeInside(root, request.envTemplate, 'the env template'));
  if (request.globs.length > 0) {
    const matches = patternMatcher(request.globs);
    // A broken link no glob names would not ship: it does not stop the export.
    const all = await walkFiles(root, { leaveOut: (relative) => !matches(relative) });
    const matched = all.filter((f) => matches(f.relative));
    for (const glob of request.globs) {
      const single = patternMatcher([glob]);
      if (!all.some((f) => single(f.relative))) {
        throw new OfflineError('EUSAGE', `files: "${glob}" matches no file under ${root}`, {
          file: root,
          found: glob,
        });
      }
    }
    for (const f of matched) chosen.add(f.relative);
  }
  for (const build of request.builds) {
    for (const f of await contextFiles(root, build, request.fullContexts)) chosen.add(f);
  }
  const files = [...chosen].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const secrets: string[] = [];
  for (const relative of files) {
    const absolute = path.join(root, relative);
    const why = secretByName(relative) ?? (await secretByContents(absolute));
    if (!why) continue;
    if (!request.includeSecrets) {
      throw new OfflineError('ESECRET', `${absolute} looks like it holds secrets: ${why}`, {
        file: absolute,
        hint: 'leave it out of the bundle, ship a template (.env.example) instead, or pass --include-secrets',
      });
    }
    secrets.push(relative);
  }
  return { files, secrets };
}

/** Copies the chosen files as they are into <staging>/stack/. */
export async function copyStackFiles(
  root: string,
  files: readonly string[],
  stagingDir: string,
): Promise<number> {
  let bytes = 0;
  for (const relative of files) {
    const dest = path.join(stagingDir, STACK_DIR, ...relative.split('/'));
    await mkdir(path.dirname(dest), { recursive: true });
    await copyFile(path.join(root, ...relative.split('/')), dest);
    bytes += (await stat(dest)).size;
  }
  return bytes;
}
