/**
 * What a user can do when the tiktoken files cannot be fetched, in the words of the command that runs the
 * prefetch: export reads environment variables, `offline tiktoken fetch` has options.
 */
export interface Hints {
  /** For a download that failed (network, proxy, mirror, wrong bytes). */
  download: string;
  /** For the overall deadline. */
  deadline: string;
}

const NETWORK = 'check the network or proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)';

function hints(mirror: string, files: string, deadline: string): Hints {
  return {
    download: `${NETWORK}, or use ${mirror} for a mirror with the same paths, or ${files} for a folder that holds the files`,
    deadline: `a slow link needs more time: ${deadline}; or use ${mirror} for a nearer mirror, or ${files} for a folder that holds the files`,
  };
}

/** Where export runs the prefetch: the variables it reads. */
export const EXPORT_HINTS = hints(
  'OFFLINE_TIKTOKEN_BASE_URL=URL',
  'TIKTOKEN_CACHE_DIR=DIR',
  'set OFFLINE_TIKTOKEN_DEADLINE (e.g. 30m)',
);

/** Where `offline tiktoken fetch` runs it: its options. */
export const FETCH_HINTS = hints(
  '--base-url URL (or OFFLINE_TIKTOKEN_BASE_URL)',
  '--from DIR',
  'pass --deadline (e.g. 30m) or set OFFLINE_TIKTOKEN_DEADLINE',
);
