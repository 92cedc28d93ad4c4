import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RUNTIME_EXECUTABLE } from '../bundle/layout.js';
import { toolVersion } from '../cli/version.js';
import { OfflineError } from '../errors.js';
import { importBuildTool } from './dev-import.js';
import { buildImporter } from './importer-build.js';

/** The single executable's name in the bundle: `./offline import .` */
export const EXECUTABLE_FILE = RUNTIME_EXECUTABLE;
/**
 * The fuse Node's single executable support looks for (Node 20 docs, "single executable applications").
 * Assembled at run time: postject refuses a binary holding the fuse twice, and the executable's own script
 * (this file, bundled) would otherwise carry it as a literal.
 */
const SEA_FUSE = ['NODE_SEA_FUSE', 'fce680ab2cc467b6e072b8b5df1996b2'].join('_');

/** The platform a single executable made here runs on, as the manifest records it: linux-x64, linux-arm64... */
export function hostPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

/**
 * Builds a Node single executable application at dest: the CLI bundled as one CommonJS script (the only kind
 * Node 20 can embed), a preparation blob from `node --experimental-sea-config`, a copy of this node binary,
 * and the blob injected with postject. It runs on hosts of this platform with no Node installed. Needs a
 * checkout (esbuild and postject are devDependencies).
 */
export async function buildExecutable(dest: string): Promise<{ platform: string }> {
  const work = await mkdtemp(path.join(tmpdir(), 'offline-sea-'));
  try {
    const main = path.join(work, 'offline.cjs');
    const blob = path.join(work, 'sea-prep.blob');
    const config = path.join(work, 'sea-config.json');
    await buildImporter(main, toolVersion(), 'cjs');
    await writeFile(
      config,
      JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false }),
    );
    await promisify(execFile)(process.execPath, ['--experimental-sea-config', config]).catch(
      (error: Error & { stderr?: string }) => {
        throw new OfflineError(
          'EINTERNAL',
          `node --experimental-sea-config failed: ${error.stderr ?? error.message}`,
          {
            file: process.execPath,
            cause: error,
          },
        );
      },
    );
    await copyFile(process.execPath, dest);
    const { inject } = await importBuildTool<typeof import('postject')>(
      'postject',
      'make the single executable',
    );
    const data = await readFile(blob);
    await quietly(() => inject(dest, 'NODE_SEA_BLOB', data, { sentinelFuse: SEA_FUSE }));
    return { platform: hostPlatform() };
  } catch (error) {
    await rm(dest, { force: true });
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * postject's ELF reader prints harmless "Can't find string offset for section name" notes through
 * console.warn; they would land in the user's progress output. Kept and shown only when the injection fails.
 */
async function quietly(run: () => Promise<void>): Promise<void> {
  const notes: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    notes.push(args.map(String).join(' '));
  };
  try {
    await run();
  } catch (error) {
    throw new OfflineError(
      'EINTERNAL',
      `postject could not inject the executable: ${(error as Error).message}`,
      {
        hint: notes.slice(-5).join(' | ') || undefined,
        cause: error,
      },
    );
  } finally {
    console.warn = warn;
  }
}
