import path from 'node:path';
import { Readable } from 'node:stream';
import type { BundleManifest } from '../bundle/manifest.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import type { PlannedFile } from './file-plan.js';
import { REPORT_FILE } from './target-layout.js';

export interface ImportReport {
  bundle: { name: string; version: string; archive: string; createdAt: string; tool: string };
  importedAt: string;
  target: string;
  /** Every bundle file whose sha256 was checked while it streamed. */
  verified: { path: string; sha256: string; size: number }[];
  /**
   * Files placed under the target (their sha256 lets the next import tell a user's change from ours). An
   * `unchanged` one already had the manifest's sha256 there, hashed by this run; its copy in the bundle may not
   * have been read (notRead).
   */
  files: { path: string; sha256: string; action: string }[];
  images: { loaded: string[]; skipped: string[] };
  /**
   * Set when the read stopped early, before this entry: neither it nor any later one was needed (files unchanged
   * in the target, image archives whose every image was present, or whose images come from a registry).
   */
  notRead?: string;
  /** An import from a registry (`--registry`): where the images are, and the compose override naming them. */
  registry?: { registry: string; composeOverride: string };
  env?: string;
  backups: string[];
  tiktokenCacheDir?: string;
  started?: { command: string; services: { name: string; state: string; health?: string }[] };
  timings: Record<string, number>;
}

export function buildReport(
  manifest: BundleManifest,
  archive: string,
  target: string,
  verified: ImportReport['verified'],
  planned: PlannedFile[],
): ImportReport {
  return {
    bundle: {
      name: manifest.name,
      version: manifest.version,
      archive,
      createdAt: manifest.createdAt,
      tool: `${manifest.tool.name} ${manifest.tool.version}`,
    },
    importedAt: new Date().toISOString(),
    target: path.resolve(target),
    verified,
    files: planned.map((f) => ({ path: f.targetPath, sha256: f.sha256, action: f.action })),
    images: { loaded: [], skipped: [] },
    backups: [],
    timings: {},
  };
}

/** How the report and the manifest copy are written: indented JSON, one newline at the end. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export async function writeReport(target: string, report: ImportReport): Promise<string> {
  const dest = path.join(target, REPORT_FILE);
  await writeStreamAtomic(Readable.from([jsonText(report)]), dest);
  return dest;
}
