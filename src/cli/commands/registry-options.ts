import path from 'node:path';
import type { Command } from 'commander';
import { parseSize } from '../../bundle/size.js';
import { OfflineError } from '../../errors.js';
import { readCredentials } from '../../registry/credentials.js';
import { DEFAULT_IDLE_TIMEOUT } from '../../registry/idle-timeout.js';
import type { PushRequest, PushResult } from '../../registry/run-push.js';
import { interruptible } from '../interrupt.js';
import { positiveWholeNumber, timerSeconds } from '../option-values.js';
import type { Output } from '../output.js';

export interface RegistryFlags {
  registry: string;
  insecure?: boolean;
  ca?: string;
  username?: string;
  passwordStdin?: boolean;
  chunkSize: string;
  concurrency: string;
  requestTimeout?: string;
}

const MiB = 1024 * 1024;

/** The options push and deploy share: where the registry is and how to log in and upload. */
export function addRegistryOptions(command: Command): Command {
  return command
    .requiredOption(
      '--registry <host[:port][/prefix]>',
      'the registry, and a repository prefix for the images',
    )
    .option('--insecure', 'talk plain HTTP to the registry')
    .option('--ca <file>', 'a CA certificate (PEM) to trust for the registry TLS certificate')
    .option('--username <user>', 'registry user (or OFFLINE_REGISTRY_USER)')
    .option('--password-stdin', 'read the password from standard input (or OFFLINE_REGISTRY_PASSWORD)')
    .option('--chunk-size <size>', 'bytes per upload request (PATCH), at least 1M', '64M')
    .option('--concurrency <n>', 'blobs uploaded at the same time', '3')
    .option(
      '--request-timeout <seconds>',
      `fail a registry request that sends and receives nothing this long (or OFFLINE_REGISTRY_TIMEOUT; default ${DEFAULT_IDLE_TIMEOUT / 1000})`,
    );
}

/** --chunk-size: a size of at least 1 MiB (smaller chunks make a request per few bytes). */
function chunkSize(text: string): number {
  let bytes: number;
  try {
    bytes = parseSize(text);
  } catch {
    bytes = Number.NaN;
  }
  if (!(bytes >= MiB)) {
    throw new OfflineError('EUSAGE', `--chunk-size "${text}" is not a size of at least 1M (e.g. 8M, 64M)`, {
      expected: `>= ${MiB} bytes`,
      found: text,
    });
  }
  return bytes;
}

export async function pushRequest(
  bundle: string,
  flags: RegistryFlags,
  output: Output,
): Promise<PushRequest> {
  const concurrency = positiveWholeNumber('--concurrency', flags.concurrency);
  const chunk = chunkSize(flags.chunkSize);
  const timeoutText = flags.requestTimeout ?? process.env.OFFLINE_REGISTRY_TIMEOUT;
  const timeout =
    timeoutText === undefined
      ? undefined
      : timerSeconds(
          flags.requestTimeout === undefined ? 'OFFLINE_REGISTRY_TIMEOUT' : '--request-timeout',
          timeoutText,
        );
  const credentials = await readCredentials(flags);
  const silent = process.env.OFFLINE_SILENT === '1';
  return {
    bundle,
    registry: flags.registry,
    insecure: Boolean(flags.insecure),
    ...(flags.ca && { ca: flags.ca }),
    ...(credentials && { credentials }),
    chunkSize: chunk,
    concurrency,
    ...(timeout !== undefined && { idleTimeout: timeout * 1000 }),
    onStep: (message) => {
      if (!silent) output.info(message);
    },
    ...(!silent && output.progress && { progress: output.progress }),
  };
}

/**
 * Runs a push or deploy with Ctrl-C turned into an abort: requests stop, the spool is removed, the saved upload
 * state stays so the next run continues, and the exit code is 130.
 */
export function interruptibleUpload<T>(output: Output, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return interruptible(output, 'stopping; run the same command again to continue the uploads', run);
}

/** The lines a person reads about a push. */
export function pushSummary(result: PushResult) {
  const { blobs } = result;
  return [
    `pushed ${result.images.length} image(s) of ${result.bundle.name} ${result.bundle.version} to ${result.registry}`,
    `  blobs: ${blobs.uploaded} uploaded, ${blobs.resumed} resumed, ${blobs.mounted} mounted, ${blobs.present} already there; ${result.bytesSent} blob bytes sent`,
    ...result.images.flatMap((image) => image.tags.map((t) => `  ${t.reference}  ${image.id}`)),
    ...(result.untagged.length ? [`  not pushed (no tag): ${result.untagged.join(', ')}`] : []),
    ...(result.composeFile ? [`  stack files: ${path.dirname(result.composeFile)}`] : []),
    ...[...new Set([result.composeOverride, result.stackOverride])]
      .filter((file) => file !== undefined)
      .map((file) => `  compose override: ${file}`),
    ...(result.backups ?? []).map((b) => `  backed up a changed file: ${b}`),
  ];
}
