import { createHash } from 'node:crypto';
import path from 'node:path';
import type { FileAction, PlannedFile } from '../../src/import/file-plan.js';

/** A bundle file planned for `target` (POSIX `targetPath`, under stack/ in the bundle) holding `text`. */
export function plannedFile(
  target: string,
  targetPath: string,
  text: string,
  action: FileAction,
): PlannedFile {
  return {
    bundlePath: `stack/${targetPath}`,
    targetPath,
    absolute: path.join(target, ...targetPath.split('/')),
    sha256: createHash('sha256').update(text).digest('hex'),
    size: Buffer.byteLength(text),
    action,
  };
}
