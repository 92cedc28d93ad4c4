import { setTimeout as sleep } from 'node:timers/promises';
import type { Digest } from '../checksum/hash-stream.js';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { formatLimit } from './deadline.js';
import { proxyAgentsFor } from './proxy.js';

export interface DownloadOptions {
  url: string;
  dest: string;
  expected: { sha256: string; size: number };
  /** Names what is being fetched in messages (the encoding). */
  label: string;
  /**
   * Idle limit of one attempt: no connection, no response or no byte for this long fails the attempt. A slow
   * but steady transfer may take longer; the limit on the whole run is the caller's deadline, through `signal`.
   */
  requestTimeoutMs: number;
  retries: number;
  /**
   * Aborting stops the transfer and removes its temp file. An OfflineError reason (a deadline) is reported
   * with the label and URL; any other reason (the user's Ctrl-C) is thrown as it is.
   */
  signal?: AbortSignal;
  /** What the user can do when the download fails: the options or variables of the command that runs it. */
  hint?: string;
  onProgress?: (bytes: number) => void;
  /** Called before each retry, for the log. */
  onRetry?: (attempt: number, reason: string) => void;
}

const DEFAULT_HINT = 'check the network or proxy (HTTPS_PROXY, NO_PROXY)';

type Got = typeof import('got');

/** got is loaded on the first download, so commands that download nothing do not pay for loading it. */
let loaded: Got | undefined;
async function loadGot(): Promise<Got> {
  loaded ??= await import('got');
  return loaded;
}

/** got's limits that each end with a sign of life (looked up, connected, headers, a byte), never the whole. */
function idleTimeouts(ms: number) {
  return { lookup: ms, connect: ms, secureConnect: ms, response: ms, socket: ms };
}

/** Only network errors and 5xx are worth trying again; a 404 or a wrong byte from the same source is not. */
function retryable(error: unknown, { HTTPError, RequestError }: Got): boolean {
  if (error instanceof HTTPError) return error.response.statusCode >= 500;
  if (error instanceof OfflineError) return false;
  return error instanceof RequestError || (error as NodeJS.ErrnoException).code !== undefined;
}

function describe(error: unknown, { HTTPError, TimeoutError }: Got, idleMs: number): string {
  if (error instanceof HTTPError) return `HTTP ${error.response.statusCode}`;
  if (error instanceof TimeoutError) return `nothing received for ${formatLimit(idleMs)} (${error.event})`;
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** The error for a download stopped by its signal: a deadline names what it stopped, anything else is kept. */
function stopped(options: DownloadOptions, reason: unknown): unknown {
  if (!(reason instanceof OfflineError)) return reason;
  return new OfflineError(reason.code, `${options.label}: ${options.url}: stopped: ${reason.message}`, {
    file: options.url,
    cause: reason,
    ...(reason.hint !== undefined && { hint: reason.hint }),
  });
}

/**
 * Streams one file to dest through a temp file, hashing as it writes; renamed into place only when the size
 * and sha256 match the pinned ones. Retries network errors and 5xx with exponential backoff; a hash mismatch
 * is reported at once (EINTEGRITY naming the URL), never retried silently.
 */
export async function downloadVerified(options: DownloadOptions): Promise<Digest> {
  const gotModule = await loadGot();
  const { default: got, RequestError } = gotModule;
  const { signal } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      signal?.throwIfAborted();
      const stream = got.stream(options.url, {
        timeout: idleTimeouts(options.requestTimeoutMs),
        retry: { limit: 0 },
        followRedirect: true,
        decompress: true,
        agent: proxyAgentsFor(new URL(options.url)) as never,
        ...(signal && { signal }),
      });
      return await writeStreamAtomic(stream, options.dest, {
        expected: options.expected,
        label: `${options.label} (${options.url})`,
        ...(options.onProgress && { onProgress: options.onProgress }),
      });
    } catch (error) {
      if (signal?.aborted) throw stopped(options, signal.reason);
      const reason = describe(error, gotModule, options.requestTimeoutMs);
      if (attempt < options.retries && retryable(error, gotModule)) {
        options.onRetry?.(attempt + 1, reason);
        // an abort ends the pause early; the next turn reports it
        await sleep(Math.min(200 * 2 ** attempt, 5000), undefined, signal && { signal }).catch(
          () => undefined,
        );
        continue;
      }
      if (error instanceof OfflineError) throw error;
      const code = error instanceof RequestError && error.code === 'ETIMEDOUT' ? 'ETIMEOUT' : 'EDOWNLOAD';
      throw new OfflineError(
        code,
        `${options.label}: ${options.url}: ${reason}${attempt > 0 ? ` after ${attempt + 1} attempts` : ''}`,
        { file: options.url, cause: error, hint: options.hint ?? DEFAULT_HINT },
      );
    }
  }
}
