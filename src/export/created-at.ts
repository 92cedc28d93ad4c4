import { OfflineError } from '../errors.js';

/** The bundle's creation time: SOURCE_DATE_EPOCH (seconds) when set, so rebuilds give the same bytes. */
export function createdAt(env: NodeJS.ProcessEnv = process.env, now: () => Date = () => new Date()): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return new Date(Math.floor(now().getTime() / 1000) * 1000);
  if (!/^\d+$/.test(epoch)) {
    throw new OfflineError('EUSAGE', `SOURCE_DATE_EPOCH must be whole seconds since 1970`, {
      file: 'SOURCE_DATE_EPOCH',
      found: epoch,
    });
  }
  return new Date(Number(epoch) * 1000);
}
