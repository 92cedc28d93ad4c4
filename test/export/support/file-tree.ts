import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../../support/temp-dir.js';

/** A fresh temp folder holding the given files (POSIX paths relative to it), removed after the test. */
export async function fileTree(files: Record<string, string>): Promise<string> {
  const root = await tempDir();
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}
