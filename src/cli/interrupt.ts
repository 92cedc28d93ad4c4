import { OfflineError } from '../errors.js';
import type { Output } from './output.js';

/**
 * The signals that stop a command with its clean-up, and the exit code after each (128 + its number, as a shell
 * reports a process the signal ended): Ctrl-C, `kill` or `systemctl stop`, a closed terminal or ssh session.
 */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** The exit code after Ctrl-C. */
export const SIGINT_EXIT = STOP_SIGNALS.SIGINT;

type StopSignal = keyof typeof STOP_SIGNALS;

/**
 * Runs a command's work with Ctrl-C (or SIGTERM, SIGHUP) turned into an abort of the signal it gets: `message`
 * says what happens now, the work stops and undoes what it must, and the exit code is the signal's. Only the
 * first signal is caught: a second one of any kind ends the process at once, as it would without this.
 */
export async function interruptible<T>(
  output: Output,
  message: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const listeners = new Map<StopSignal, () => void>();
  const stopListening = () => {
    for (const [name, listener] of listeners) process.removeListener(name, listener);
  };
  for (const name of Object.keys(STOP_SIGNALS) as StopSignal[]) {
    const listener = () => {
      stopListening();
      // After SIGHUP the terminal is gone and this write fails (EIO): main() drops such errors
      // (closed-output.ts), so the clean-up still runs.
      output.warn(`interrupted (${name}): ${message}`);
      process.once('exit', () => {
        process.exitCode = STOP_SIGNALS[name];
      });
      controller.abort(new OfflineError('EINTERNAL', `interrupted (${name})`));
    };
    listeners.set(name, listener);
    process.once(name, listener);
  }
  try {
    return await run(controller.signal);
  } finally {
    stopListening();
  }
}
