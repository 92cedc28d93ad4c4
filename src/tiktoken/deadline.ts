import { OfflineError } from '../errors.js';
import { MAX_TIMER_MS, MAX_TIMER_TEXT } from '../time-limit.js';

/** The environment variable that limits a whole tiktoken prefetch, as --deadline does. */
export const DEADLINE_VARIABLE = 'OFFLINE_TIKTOKEN_DEADLINE';

/** A limit as people read it: "2 h", "10 min", "30 s", "500 ms". */
export function formatLimit(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * A duration as a user writes it: "600" (seconds), "90s", "20m", "20min", "1.5h", "500ms". Anything else, zero,
 * or more than a timer can wait (24 days), is EUSAGE naming `where` (the option or variable it came from).
 */
export function parseDuration(value: string, where: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h)?\s*$/i.exec(value);
  const ms = match ? Math.round(Number(match[1]) * (UNIT_MS[(match[2] ?? 's').toLowerCase()] ?? 1000)) : 0;
  if (ms <= 0) {
    throw new OfflineError('EUSAGE', `${where} "${value}": not a duration`, {
      found: value,
      expected: 'a duration such as 600 (seconds), 90s, 20m or 1h',
    });
  }
  if (ms > MAX_TIMER_MS) {
    throw new OfflineError('EUSAGE', `${where} "${value}": longer than ${MAX_TIMER_TEXT}`, {
      found: value,
      expected: `at most ${MAX_TIMER_TEXT}`,
    });
  }
  return ms;
}

export interface Deadline {
  signal: AbortSignal;
  /** Milliseconds left before it passes (0 once it has). */
  remainingMs(): number;
  /** Stops the timer once the work is done, so it keeps nothing alive and fires for nobody. */
  clear(): void;
}

/**
 * An overall deadline whose signal aborts with an ETIMEOUT saying which deadline passed and how long it was
 * (AbortSignal.timeout's reason is a bare DOMException, whose only detail is the number 23), with `hint`.
 */
export function startDeadline(ms: number, what: string, hint?: string): Deadline {
  const controller = new AbortController();
  const end = Date.now() + ms;
  const timer = setTimeout(() => {
    controller.abort(
      new OfflineError('ETIMEOUT', `the overall deadline of ${formatLimit(ms)} for ${what} passed`, {
        ...(hint !== undefined && { hint }),
      }),
    );
  }, ms);
  timer.unref();
  return {
    signal: controller.signal,
    remainingMs: () => Math.max(0, end - Date.now()),
    clear: () => clearTimeout(timer),
  };
}
