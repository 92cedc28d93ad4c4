import { OfflineError } from '../errors.js';

/**
 * A file-system error (one that names a path and a system call: EACCES, ENOSPC, EROFS, EISDIR...) as the
 * OfflineError a user reads: ENOSPACE for a full disk, else EINTERNAL, naming the path. Such an error is never
 * worth a retry. Undefined for any other error.
 */
export function localFileError(error: unknown, what: string): OfflineError | undefined {
  const cause = error as NodeJS.ErrnoException;
  if (!(cause instanceof Error) || typeof cause.path !== 'string' || typeof cause.syscall !== 'string') {
    return undefined;
  }
  const full = cause.code === 'ENOSPC' || cause.code === 'EDQUOT';
  return new OfflineError(full ? 'ENOSPACE' : 'EINTERNAL', `${what}: ${cause.message}`, {
    file: cause.path,
    cause,
    hint: full
      ? 'free some space there, or choose another folder'
      : 'check that the folder can be written by this user, or choose another folder',
  });
}
