import { OfflineError } from '../errors.js';
import { MAX_TIMER_MS, MAX_TIMER_TEXT } from '../time-limit.js';

/** A count or a number of seconds given on the command line: a whole number >= 1, else EUSAGE naming the option. */
export function positiveWholeNumber(option: string, text: string): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new OfflineError('EUSAGE', `${option} "${text}" is not a positive whole number`, {
      expected: 'a whole number >= 1',
      found: text,
    });
  }
  return value;
}

/** A number of seconds a timer waits (an idle limit): a whole number >= 1 and at most 24 days, else EUSAGE. */
export function timerSeconds(option: string, text: string): number {
  const seconds = positiveWholeNumber(option, text);
  if (seconds * 1000 > MAX_TIMER_MS) {
    throw new OfflineError('EUSAGE', `${option} "${text}" is longer than ${MAX_TIMER_TEXT}`, {
      expected: `at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds`,
      found: text,
    });
  }
  return seconds;
}
