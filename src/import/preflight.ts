import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type { BundleManifest } from '../bundle/manifest.js';
import type { EngineVersion } from '../docker/engine.js';
import { OfflineError } from '../errors.js';

/**
 * The engine must run the bundle's images it gets (`only`, by ID; all of them without it): os and architecture
 * must match (EPLATFORM), unless forced.
 */
export function checkPlatforms(
  manifest: BundleManifest,
  engine: EngineVersion,
  force: boolean,
  only?: ReadonlySet<string>,
): string[] {
  const warnings: string[] = [];
  for (const image of manifest.images) {
    if (only && !only.has(image.id)) continue;
    if (image.os === engine.os && normaliseArch(image.architecture) === normaliseArch(engine.arch)) continue;
    const message = `${image.tags[0] ?? image.id}: built for ${image.os}/${image.architecture}, this engine runs ${engine.os}/${engine.arch}`;
    if (!force) {
      throw new OfflineError('EPLATFORM', message, {
        file: image.tags[0] ?? image.id,
        expected: `${engine.os}/${engine.arch}`,
        found: `${image.os}/${image.architecture}`,
        hint: 'use a bundle exported for this platform (export --platform), or --force to load it anyway',
      });
    }
    warnings.push(message);
  }
  return warnings;
}

function normaliseArch(arch: string): string {
  return ({ x86_64: 'amd64', aarch64: 'arm64' } as Record<string, string>)[arch] ?? arch;
}

/** Free bytes on the file system holding dir (or its nearest existing parent). */
export async function freeBytes(dir: string): Promise<number | undefined> {
  for (let probe = path.resolve(dir); ; probe = path.dirname(probe)) {
    try {
      const stats = await statfs(probe);
      return stats.bavail * stats.bsize;
    } catch {
      if (probe === path.dirname(probe)) return undefined;
    }
  }
}

/**
 * Enough disk, checked before any work: the engine's data root needs the images (the daemon also extracts a
 * load into its tmp first, about the archive again), the target folder needs the files.
 */
export async function checkDiskSpace(
  manifest: BundleManifest,
  engineRoot: string | undefined,
  target: string,
  imagesToLoad: number,
): Promise<void> {
  const archiveBytes = manifest.files
    .filter((f) => f.path.endsWith('.tar') && f.path.includes('/'))
    .reduce((s, f) => s + f.size, 0);
  const needs: { where: string; bytes: number }[] = [
    {
      where: target,
      bytes: manifest.files.filter((f) => !f.path.endsWith('.tar')).reduce((s, f) => s + f.size, 0),
    },
  ];
  if (imagesToLoad > 0 && engineRoot !== undefined)
    needs.push({ where: engineRoot, bytes: archiveBytes * 2 });
  for (const need of needs) {
    const free = await freeBytes(need.where);
    if (free !== undefined && free < need.bytes) {
      throw new OfflineError('ENOSPACE', `${need.where}: not enough free disk for this bundle`, {
        file: need.where,
        expected: `${need.bytes} bytes free`,
        found: `${free} bytes free`,
        hint: 'free some space or choose another --target',
      });
    }
  }
}
