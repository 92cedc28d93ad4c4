import { OfflineError } from '../errors.js';
import type { Output } from './output.js';

/** The exit code after Ctrl-C, as a shell reports a process that SIGINT ended. */
export const SIGINT_EXIT = 130;

/**
 * Runs a command's work with Ctrl-C turned into an abort of the signal it gets: `message` says what happens
 * now, the work stops and undoes what it must, and the exit code is 130. Only the first Ctrl-C is caught: a
 * second one ends the process at once, as it would without this.
 */
export async function interruptible<T>(
  output: Output,
  message: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    output.warn(`interrupted: ${message}`);
    process.once('exit', () => {
      process.exitCode = SIGINT_EXIT;
    });
    controller.abort(new OfflineError('EINTERNAL', 'interrupted (SIGINT)'));
  };
  process.once('SIGINT', onSigint);
  try {
    return await run(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
