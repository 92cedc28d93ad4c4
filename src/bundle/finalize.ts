import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { hashFile } from '../checksum/hash-file.js';
import type { Digest } from '../checksum/hash-stream.js';
import { type ChecksumEntry, formatChecksums } from '../checksum/sha256sum-format.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { walkFiles } from '../fs/walk.js';
import {
  CHECKSUMS_FILE,
  IMPORT_SCRIPT,
  IMPORTER_BUNDLE,
  MANIFEST_FILE,
  README_FILE,
  RUNTIME_EXECUTABLE,
} from './layout.js';
import { type BundleManifest, formatManifest } from './manifest.js';
import { renderReadme } from './readme.js';

const HASH_CONCURRENCY = 4;

/**
 * Completes a staging folder: writes README.txt, then manifest.json (files[] = every file but the two lists)
 * and checksums.sha256 (every file, manifest.json included). Files whose digest is already known (hashed while
 * written) are not read again. Modes are normalised: 0644, or 0755 for the importers.
 */
export async function finalizeStaging(
  stagingDir: string,
  manifest: Omit<BundleManifest, 'files'>,
  known: ReadonlyMap<string, Digest> = new Map(),
): Promise<BundleManifest> {
  const present = async (name: string) =>
    (await stat(path.join(stagingDir, name)).catch(() => undefined))?.isFile() ?? false;
  const importers = {
    script: await present(IMPORT_SCRIPT),
    bundle: await present(IMPORTER_BUNDLE),
    executable: await present(RUNTIME_EXECUTABLE),
  };
  const readme = await writeText(stagingDir, README_FILE, renderReadme(manifest, { importers }));
  const digests = new Map(known);
  digests.set(README_FILE, readme);
  const files = await walkFiles(stagingDir, { exclude: new Set([MANIFEST_FILE, CHECKSUMS_FILE]) });
  const limit = pLimit(HASH_CONCURRENCY);
  const entries = await Promise.all(
    files.map((file) =>
      limit(async () => {
        const importer = file.relative === IMPORT_SCRIPT || file.relative === IMPORTER_BUNDLE;
        const executable = importer || ((await stat(file.absolute)).mode & 0o111) !== 0;
        await chmod(file.absolute, executable ? 0o755 : 0o644);
        const known = digests.get(file.relative);
        // A known digest whose size no longer matches the file is stale: hash the file again.
        const digest = known?.size === file.size ? known : await hashFile(file.absolute);
        return { path: file.relative, size: digest.size, sha256: digest.sha256 };
      }),
    ),
  );
  const complete: BundleManifest = { ...manifest, files: entries };
  const manifestDigest = await writeText(stagingDir, MANIFEST_FILE, formatManifest(complete));
  const listed: ChecksumEntry[] = [...entries, { path: MANIFEST_FILE, sha256: manifestDigest.sha256 }];
  await writeText(stagingDir, CHECKSUMS_FILE, formatChecksums(listed));
  return complete;
}

async function writeText(dir: string, name: string, text: string): Promise<Digest> {
  const dest = path.join(dir, name);
  const digest = await writeStreamAtomic(Readable.from([Buffer.from(text, 'utf8')]), dest);
  await chmod(dest, 0o644);
  return digest;
}
