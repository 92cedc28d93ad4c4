import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { OfflineError } from '../errors.js';

/**
 * Makes the folder a command writes into (`--target`, `--out`) as `mkdir -p` does, one level at a time, and
 * returns the first folder it made (undefined when the folder was there), for an undo to remove. What stops it
 * is one clear error naming the path and `option`: EUSAGE when the path, or a folder on its way, is a file,
 * or a folder cannot be made there (read-only, no permission, a file system like /proc, where Node's own
 * recursive mkdir loops forever); ENOSPACE on a full disk.
 */
export async function makeOutputFolder(dir: string, option: string): Promise<string | undefined> {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    const info = await stat(at).catch((error: NodeJS.ErrnoException) => {
      // ENOTDIR: a file on the way; the walk up reaches it.
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw cannotMake(dir, at, option, error);
    });
    if (info?.isDirectory()) break;
    if (info) {
      throw new OfflineError(
        'EUSAGE',
        at === path.resolve(dir) ? `${dir}: not a folder` : `${dir}: ${at} is a file, not a folder`,
        {
          file: at,
          expected: 'a folder',
          found: 'a file',
          hint: `give ${option} a folder (made when missing)`,
        },
      );
    }
    missing.unshift(at);
    if (at === path.dirname(at)) break;
    at = path.dirname(at);
  }
  for (const folder of missing) {
    await mkdir(folder).catch(async (error: NodeJS.ErrnoException) => {
      // Made meanwhile by someone else: as good, if it is a folder.
      if (error.code === 'EEXIST' && (await stat(folder).catch(() => undefined))?.isDirectory()) return;
      throw cannotMake(dir, folder, option, error);
    });
  }
  return missing[0];
}

/**
 * Makes the folder `work` directly inside an output folder (its parent, which exists), where a command stages
 * what it writes: the first write there, so a folder that is read-only, or not this user's, is one EUSAGE
 * naming the output folder and `option`, before any work.
 */
export async function makeWorkFolder(work: string, option: string): Promise<void> {
  const folder = path.dirname(work);
  await mkdir(work).catch((error: NodeJS.ErrnoException) => {
    throw refusal(`${folder}: cannot write in it`, folder, option, error);
  });
}

function cannotMake(dir: string, at: string, option: string, error: NodeJS.ErrnoException): OfflineError {
  return refusal(`${dir}: cannot make ${at === path.resolve(dir) ? 'it' : at}`, at, option, error);
}

/** A folder the file system refused: ENOSPACE when it is full, else EUSAGE (another folder is the way out). */
function refusal(what: string, file: string, option: string, error: NodeJS.ErrnoException): OfflineError {
  const full = error.code === 'ENOSPC' || error.code === 'EDQUOT';
  return new OfflineError(full ? 'ENOSPACE' : 'EUSAGE', `${what} (${error.code ?? error.message})`, {
    file,
    cause: error,
    hint: full
      ? 'free some space there, or choose another folder'
      : `give ${option} a folder this user can write`,
  });
}

/**
 * Checks, before any work, that a file a command writes at its end (`--compose-override`) can go there: its
 * folder exists and the path is no folder. EUSAGE naming `option` otherwise.
 */
export async function checkOutputFile(file: string, option: string): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  if (!(await stat(folder).catch(() => undefined))?.isDirectory()) {
    throw new OfflineError('EUSAGE', `${option} ${file}: ${folder} is not a folder`, {
      file: folder,
      hint: `make the folder first, or give ${option} a path in an existing folder`,
    });
  }
  if ((await stat(file).catch(() => undefined))?.isDirectory()) {
    throw new OfflineError('EUSAGE', `${option} ${file}: is a folder, not a file`, {
      file,
      hint: `give ${option} a file name`,
    });
  }
}
