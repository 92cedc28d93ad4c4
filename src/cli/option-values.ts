import { OfflineError } from '../errors.js';

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
