import { setTimeout as sleep } from 'node:timers/promises';
import type { Digest } from '../checksum/hash-stream.js';
import { OfflineError } from '../errors.js';
import { writeStreamAtomic } from '../fs/atomic-file.js';
import { proxyAgentsFor } from './proxy.js';

export interface DownloadOptions {
  url: string;
  dest: string;
  expected: { sha256: string; size: number };
  /** Names what is being fetched in messages (the encoding). */
  label: string;
  /** Per-request timeout: no byte for this long fails the attempt. */
  requestTimeoutMs: number;
  retries: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
  /** Called before each retry, for the log. */
  onRetry?: (attempt: number, reason: string) => void;
}

type Got = typeof import('got');

/** got is loaded on the first download, so commands that download nothing do not pay for loading it. */
let loaded: Got | undefined;
async function loadGot(): Promise<Got> {
  loaded ??= await import('got');
  return loaded;
}

/** Only network errors and 5xx are worth trying again; a 404 or a wrong byte from the same source is not. */
function retryable(error: unknown, { HTTPError, RequestError }: Got): boolean {
  if (error instanceof HTTPError) return error.response.statusCode >= 500;
  if (error instanceof OfflineError) return false;
  return error instanceof RequestError || (error as NodeJS.ErrnoException).code !== undefined;
}

function describe(error: unknown, { HTTPError }: Got): string {
  if (error instanceof HTTPError) return `HTTP ${error.response.statusCode}`;
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/**
 * Streams one file to dest through a temp file, hashing as it writes; renamed into place only when the size
 * and sha256 match the pinned ones. Retries network errors and 5xx with exponential backoff; a hash mismatch
 * is reported at once (EINTEGRITY naming the URL), never retried silently.
 */
export async function downloadVerified(options: DownloadOptions): Promise<Digest> {
  const gotModule = await loadGot();
  const { default: got, RequestError } = gotModule;
  for (let attempt = 0; ; attempt++) {
    try {
      const stream = got.stream(options.url, {
        timeout: { request: options.requestTimeoutMs },
        retry: { limit: 0 },
        followRedirect: true,
        decompress: true,
        agent: proxyAgentsFor(new URL(options.url)) as never,
        ...(options.signal && { signal: options.signal }),
      });
      return await writeStreamAtomic(stream, options.dest, {
        expected: options.expected,
        label: `${options.label} (${options.url})`,
        ...(options.onProgress && { onProgress: options.onProgress }),
      });
    } catch (error) {
      if (options.signal?.aborted) {
        throw new OfflineError(
          'ETIMEOUT',
          `${options.label}: ${options.url}: stopped (${describe(options.signal.reason, gotModule)})`,
          {
            file: options.url,
          },
        );
      }
      if (attempt < options.retries && retryable(error, gotModule)) {
        options.onRetry?.(attempt + 1, describe(error, gotModule));
        await sleep(Math.min(200 * 2 ** attempt, 5000));
        continue;
      }
      if (error instanceof OfflineError) throw error;
      const code = error instanceof RequestError && error.code === 'ETIMEDOUT' ? 'ETIMEOUT' : 'EDOWNLOAD';
      throw new OfflineError(
        code,
        `${options.label}: ${options.url}: ${describe(error, gotModule)}${attempt > 0 ? ` after ${attempt + 1} attempts` : ''}`,
        {
          file: options.url,
          cause: error,
          hint: 'check the network or proxy, or use --base-url for a mirror or --from for files on disk',
        },
      );
    }
  }
}
