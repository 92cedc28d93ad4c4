import { rmdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Removes `deepest` and then its parents up to `top` (included) while each is empty: the folders a run made,
 * gone again after a failure, unless something else came into them meanwhile.
 */
export async function removeEmptyFolders(top: string, deepest: string): Promise<void> {
  const stop = path.resolve(top);
  for (let dir = path.resolve(deepest); dir === stop || dir.startsWith(`${stop}${path.sep}`); ) {
    const removed = await rmdir(dir).then(
      () => true,
      () => false,
    );
    if (!removed || dir === stop) return;
    dir = path.dirname(dir);
  }
}
