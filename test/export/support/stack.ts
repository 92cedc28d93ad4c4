import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DockerEngine } from '../../../src/docker/engine.js';
import { buildContextStream } from '../../../src/export/build-context.js';
import { tempDir } from '../../support/temp-dir.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/stacks');

/**
 * A copy of a fixture stack in a temp folder, so a test may change its files: under `parent` when given (the
 * caller removes it), else in a folder removed after the current test.
 */
export async function copyStack(name: string, parent?: string): Promise<string> {
  const dir = path.join(parent ?? (await tempDir('offline-stack-')), name);
  await cp(path.join(fixtures, name), dir, { recursive: true });
  return dir;
}

/**
 * Puts a small busybox-based image into the registry under `ref` and removes it locally, so an export has to
 * pull it. Returns the image ID.
 */
export async function seedRegistryImage(
  engine: DockerEngine,
  baseImage: string,
  ref: string,
): Promise<string> {
  const context = await tempDir('offline-seed-');
  await writeFile(
    path.join(context, 'Dockerfile'),
    // The label makes the image this call's own: another test file seeding at the same time gets another ID,
    // so neither's removal below can take an image the other is tagging.
    `FROM ${baseImage}\nLABEL offline.test.seed="${ref}"\nRUN echo "pulled from a registry" > /pulled.txt\nCMD ["sleep", "3600"]\n`,
  );
  await engine.buildImage(await buildContextStream(context, 'Dockerfile'), { tags: [ref] });
  try {
    await engine.pushImage(ref);
    const info = await engine.inspectImage(ref);
    if (!info) throw new Error(`${ref} vanished after push`);
    return info.id;
  } finally {
    await engine.removeImage(ref);
  }
}

/** The image IDs a classic build printed (" ---> 1a2b3c4d5e6f"), newest last: its intermediates too. */
export function imageIdsIn(lines: readonly string[]): string[] {
  return lines.flatMap((line) => [...line.matchAll(/---> ([0-9a-f]{12})\b/g)].map((m) => m[1] ?? ''));
}

/**
 * Removes build intermediates by ID, newest first, without force: an ID that another test's image still
 * uses (tagged, or with children) stays, so tests sharing the engine never lose each other's images.
 */
export async function removeIntermediates(engine: DockerEngine, ids: readonly string[]): Promise<void> {
  for (const id of ids) await engine.removeImage(id).catch(() => {});
}
