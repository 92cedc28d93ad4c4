/**
 * How long a registry request may go without a byte either way before it fails (socket idle time), in ms.
 * Its own module: the help text of push and deploy shows it, and every command registers their options, while
 * http.ts loads Node's TLS, which only push and deploy use.
 */
export const DEFAULT_IDLE_TIMEOUT = 120_000;
