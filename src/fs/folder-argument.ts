import { stat } from 'node:fs/promises';
import { OfflineError } from '../errors.js';

/**
 * A folder the user names for a command to read (checksum verify DIR, tiktoken verify DIR): one that does
 * not exist, or is a file, is a usage error naming it, with `hint` saying what to give instead.
 */
export async function assertFolderArgument(dir: string, hint: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new OfflineError('EUSAGE', `${dir}: ${info ? 'not a folder' : 'no such folder'}`, {
      file: dir,
      hint,
    });
  }
}
