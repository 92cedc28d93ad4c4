import { OfflineError } from '../errors.js';

/** A limit as people read it: "10 min", "30 s", "500 ms". */
export function formatLimit(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

export interface Deadline {
  signal: AbortSignal;
  /** Stops the timer once the work is done, so it keeps nothing alive and fires for nobody. */
  clear(): void;
}

/**
 * An overall deadline whose signal aborts with an ETIMEOUT saying which deadline passed and how long it was
 * (AbortSignal.timeout's reason is a bare DOMException, whose only detail is the number 23).
 */
export function startDeadline(ms: number, what: string): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new OfflineError('ETIMEOUT', `the overall deadline of ${formatLimit(ms)} for ${what} passed`),
    );
  }, ms);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
