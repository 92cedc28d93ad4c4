import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The modules a run evaluates before its command's action: those main.ts reaches through static imports, in
 * the bundle offline.mjs carries (esbuild, as importer-build.ts bundles it). A module reached only through an
 * `await import` is evaluated when that import runs.
 */
async function loadedUpFront(): Promise<Set<string>> {
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'src/cli/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // Native or optional modules the real build leaves out: not what this test is about.
    external: ['esbuild', 'postject', 'ssh2', 'cpu-features', 'supports-color'],
  });
  const { inputs } = result.metafile;
  const entry = Object.keys(inputs).find((file) => file.endsWith('src/cli/main.ts'));
  if (entry === undefined) throw new Error('main.ts is not in the metafile');
  const seen = new Set([entry]);
  const next = [entry];
  for (let file = next.pop(); file !== undefined; file = next.pop()) {
    for (const i of inputs[file]?.imports ?? []) {
      if (i.external || i.kind === 'dynamic-import' || seen.has(i.path)) continue;
      seen.add(i.path);
      next.push(i.path);
    }
  }
  return seen;
}

/** The npm package a bundled input belongs to, or its path under src/. */
function owner(file: string): string {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1] ?? file.replace(/^.*?\bsrc\//, 'src/');
}

describe('commands load their work when they run', () => {
  it("evaluates no command's work, and none of its heavy dependencies, before the command's action", async () => {
    const owners = [...(await loadedUpFront())].map(owner);
    expect(owners).toContain('commander');
    for (const heavy of ['got', 'listr2', 'yaml', 'tar', 'dockerode', 'docker-modem']) {
      expect(owners, heavy).not.toContain(heavy);
    }
    for (const work of [
      'src/export/',
      'src/import/run-import.ts',
      'src/registry/run-push.ts',
      'src/bundle/reader.ts',
    ]) {
      expect(
        owners.filter((o) => o.startsWith(work)),
        work,
      ).toEqual([]);
    }
  }, 60_000);
});
