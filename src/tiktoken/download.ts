import { setTimeout as sleep } from 'node:timers/promises';
import type { Digest } from '../checksum/hash-stream.js';
import { isOfflineError, OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { formatLimit } from './deadline.js';
import { EXPORT_HINTS, type Hints } from './hints.js';
import { localFileError } from './local-error.js';
import { proxyAgentsFor } from './proxy.js';
import { backoffMs, retryAfterMs, retryableStatus } from './retry.js';

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
   * Aborting stops the transfer and removes its temp file. An OfflineError reason (the deadline, or the
   * Ctrl-C of cli/interrupt.ts) is reported with the label and URL, keeping its code; any other reason is
   * thrown as it is.
   */
  signal?: AbortSignal;
  /** Time left before the caller's deadline: a Retry-After beyond it fails at once instead of waiting. */
  timeLeftMs?: () => number;
  /** What the user can do when the download fails, in the words of the command that runs it. */
  hints?: Hints;
  onProgress?: (bytes: number) => void;
  /** Called before each retry, and the pause before it, for the log. */
  onRetry?: (attempt: number, reason: string, waitMs: number) => void;
}

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

/** Why one attempt failed, and whether another may do better (and after how long, if the server said). */
interface Failure {
  reason: string;
  retryable: boolean;
  waitMs?: number;
}

/**
 * Network errors, 408, 429 and 5xx are worth trying again, and so is a body that came back short; a 404, a
 * redirect loop, a wrong or overlong body or an HTML page from the same source is not.
 */
function failureOf(error: unknown, got: Got, idleMs: number, contentType: string | undefined): Failure {
  if (error instanceof got.HTTPError) {
    const { statusCode, headers } = error.response;
    const waitMs = retryAfterMs(headers['retry-after']);
    return {
      reason: `HTTP ${statusCode}`,
      retryable: retryableStatus(statusCode),
      ...(waitMs !== undefined && { waitMs }),
    };
  }
  if (error instanceof got.TimeoutError) {
    return { reason: `nothing received for ${formatLimit(idleMs)} (${error.event})`, retryable: true };
  }
  if (error instanceof got.RequestError) {
    const retryable = !(error instanceof got.MaxRedirectsError);
    return { reason: error.code ?? error.message, retryable };
  }
  const short = isOfflineError(error, 'EBADSIZE') && Number(error.found) < Number(error.expected);
  return { reason: (error as Error).message, retryable: short && !isHtml(contentType) };
}

function isHtml(contentType: string | undefined): boolean {
  return contentType?.toLowerCase().includes('text/html') ?? false;
}

/** The error for a download stopped by its signal: an OfflineError reason names what it stopped. */
function stopped(options: DownloadOptions, reason: unknown): unknown {
  if (!(reason instanceof OfflineError)) return reason;
  return new OfflineError(reason.code, `${options.label}: ${options.url}: stopped: ${reason.message}`, {
    file: options.url,
    cause: reason,
    ...(reason.hint !== undefined && { hint: reason.hint }),
  });
}

/** The error a user reads once no attempt is left, naming the URL, the attempts and what to do. */
function finalError(
  error: unknown,
  failure: Failure,
  context: { options: DownloadOptions; got: Got; attempts: number; contentType: string | undefined },
): OfflineError {
  const { options, attempts, contentType } = context;
  const hint = (options.hints ?? EXPORT_HINTS).download;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (error instanceof OfflineError) {
    // a wrong size or sha256: the message already names the label and URL
    const page = isHtml(contentType)
      ? ` (the server sent a ${contentType} page, not the file: an error or login page of a proxy or mirror?)`
      : '';
    return new OfflineError(error.code, `${error.message}${page}${tries}`, {
      file: options.url,
      cause: error,
      ...(error.expected !== undefined && { expected: error.expected }),
      ...(error.found !== undefined && { found: error.found }),
      hint,
    });
  }
  const timedOut = error instanceof context.got.RequestError && error.code === 'ETIMEDOUT';
  return new OfflineError(
    timedOut ? 'ETIMEOUT' : 'EDOWNLOAD',
    `${options.label}: ${options.url}: ${failure.reason}${tries}`,
    { file: options.url, cause: error, hint },
  );
}

/** A Retry-After the deadline will not wait for: the attempt fails now, saying so. */
function pastDeadline(
  options: DownloadOptions,
  failure: Failure,
  waitMs: number,
  leftMs: number,
): OfflineError {
  return new OfflineError(
    'ETIMEOUT',
    `${options.label}: ${options.url}: ${failure.reason}, and the server asks to retry in ${formatLimit(waitMs)} (Retry-After), past the overall deadline (${formatLimit(leftMs)} left)`,
    { file: options.url, hint: (options.hints ?? EXPORT_HINTS).deadline },
  );
}

/** Picks the agent for every request, redirect hops included: each URL gets its own proxy or none. */
function agentPerHop(options: { url?: URL | string | undefined; agent: object }): void {
  const url = options.url instanceof URL ? options.url : new URL(String(options.url));
  options.agent = { http: undefined, https: undefined, http2: undefined, ...proxyAgentsFor(url) };
}

/**
 * Streams one file to dest through a temp file, hashing as it writes; renamed into place only when the size
 * and sha256 match the pinned ones. Retries network errors, 408, 429, 5xx and a body cut short, after the
 * server's Retry-After or an exponential backoff; a wrong sha256 is reported at once (EINTEGRITY naming the
 * URL), never retried silently, and a local file-system error at once, naming the path.
 */
export async function downloadVerified(options: DownloadOptions): Promise<Digest> {
  const gotModule = await loadGot();
  const { signal } = options;
  for (let attempt = 0; ; attempt++) {
    let contentType: string | undefined;
    try {
      signal?.throwIfAborted();
      const stream = gotModule.default.stream(options.url, {
        timeout: idleTimeouts(options.requestTimeoutMs),
        retry: { limit: 0 },
        followRedirect: true,
        decompress: true,
        hooks: { beforeRequest: [agentPerHop] },
        ...(signal && { signal }),
      });
      stream.once('response', (response: { headers: Record<string, string | undefined> }) => {
        contentType = response.headers['content-type'];
      });
      return await writeStreamAtomic(stream, options.dest, {
        expected: options.expected,
        label: `${options.label}: ${options.url}`,
        ...(options.onProgress && { onProgress: options.onProgress }),
      });
    } catch (error) {
      if (signal?.aborted) throw stopped(options, signal.reason);
      if (!(error instanceof gotModule.RequestError)) {
        const local = localFileError(error, `${options.label}: writing ${options.dest}`);
        if (local) throw local;
      }
      const failure = failureOf(error, gotModule, options.requestTimeoutMs, contentType);
      if (attempt >= options.retries || !failure.retryable) {
        throw finalError(error, failure, { options, got: gotModule, attempts: attempt + 1, contentType });
      }
      const waitMs = failure.waitMs ?? backoffMs(attempt);
      const leftMs = options.timeLeftMs?.() ?? Number.POSITIVE_INFINITY;
      if (failure.waitMs !== undefined && waitMs >= leftMs)
        throw pastDeadline(options, failure, waitMs, leftMs);
      options.onRetry?.(attempt + 1, failure.reason, waitMs);
      // an abort ends the pause early; the next turn reports it
      await sleep(waitMs, undefined, signal && { signal }).catch(() => undefined);
    }
  }
}
