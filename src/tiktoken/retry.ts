/** The statuses worth another attempt: a timeout, too many requests, and any server error. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Milliseconds a Retry-After header asks to wait (whole seconds, or an HTTP date), or undefined. */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The pause before retry `attempt + 1` when the server names none: 200 ms, doubled each time, at most 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(200 * 2 ** attempt, 5000);
}
