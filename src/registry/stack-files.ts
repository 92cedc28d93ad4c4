import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { STACK_DIR } from '../bundle/layout.js';
import type { BundleEntry } from '../bundle/reader.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { resolveInside } from '../fs/safe-path.js';

/** True for the bundle's stack files (stack/...), which a deploy places at the top of its folder. */
export function isStackFile(bundlePath: string): boolean {
  return bundlePath.startsWith(`${STACK_DIR}/`);
}

/**
 * Writes one stack file under dir (stack/ stripped, so the compose file's relative paths work), atomically,
 * keeping its executable bit. The bytes are hashed by the bundle reader as they flow.
 */
export async function writeStackFile(entry: BundleEntry, dir: string): Promise<string> {
  const dest = resolveInside(dir, entry.path.slice(STACK_DIR.length + 1), entry.path);
  await mkdir(path.dirname(dest), { recursive: true });
  await writeStreamAtomic(entry.stream, dest, { label: entry.path });
  await chmod(dest, entry.executable ? 0o755 : 0o644);
  return dest;
}
