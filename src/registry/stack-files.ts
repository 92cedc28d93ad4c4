import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { STACK_DIR, TIKTOKEN_DIR } from '../bundle/layout.js';
import type { BundleEntry } from '../bundle/reader.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { resolveInside } from '../fs/safe-path.js';

/**
 * True for the files a deploy places: the stack's (stack/..., at the top of its folder) and the tiktoken cache
 * (tiktoken/..., which the compose file mounts as ./tiktoken), as an import places them.
 */
export function isStackFile(bundlePath: string): boolean {
  return bundlePath.startsWith(`${STACK_DIR}/`) || bundlePath.startsWith(`${TIKTOKEN_DIR}/`);
}

/** Where a placed file goes under the deploy folder: stack/ stripped, tiktoken/ kept. */
function placedPath(bundlePath: string): string {
  return bundlePath.startsWith(`${STACK_DIR}/`) ? bundlePath.slice(STACK_DIR.length + 1) : bundlePath;
}

/**
 * Writes one stack or tiktoken file under dir (stack/ stripped, so the compose file's relative paths work),
 * atomically, keeping its executable bit. The bytes are hashed by the bundle reader as they flow.
 */
export async function writeStackFile(entry: BundleEntry, dir: string): Promise<string> {
  const dest = resolveInside(dir, placedPath(entry.path), entry.path);
  await mkdir(path.dirname(dest), { recursive: true });
  await writeStreamAtomic(entry.stream, dest, { label: entry.path });
  await chmod(dest, entry.executable ? 0o755 : 0o644);
  return dest;
}
