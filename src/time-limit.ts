/**
 * The longest wait a Node timer can take: 2^31 - 1 ms, about 24.8 days. A longer one fires after 1 ms (with a
 * TimeoutOverflowWarning), so a limit a user sets beyond it would end the work at once: it is refused instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** How the longest limit reads in an error: "24 days". */
export const MAX_TIMER_TEXT = `${Math.floor(MAX_TIMER_MS / 86_400_000)} days`;
