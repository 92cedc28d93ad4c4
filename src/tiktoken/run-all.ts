import pLimit from 'p-limit';

/** One piece of work; it must stop, and clean up after itself, when the signal it is given aborts. */
export type Job<T> = (signal: AbortSignal) => Promise<T>;

/**
 * Runs the jobs at most `concurrency` at once, all or nothing: the first failure (or an abort of `signal`)
 * aborts the running jobs and keeps the queued ones from starting. It waits until every job has settled, so
 * nothing still writes after it returns, then throws the first error.
 */
export async function runAll<T>(
  jobs: readonly Job<T>[],
  options: { concurrency: number; signal?: AbortSignal },
): Promise<T[]> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const limit = pLimit(options.concurrency);
  let failure: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    jobs.map((job) =>
      limit(async () => {
        try {
          signal.throwIfAborted();
          return await job(signal);
        } catch (error) {
          if (!failure) {
            failure = { error };
            stop.abort(error);
          }
          throw error;
        }
      }),
    ),
  );
  if (failure) throw failure.error;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}
