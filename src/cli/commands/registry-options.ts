import path from 'node:path';
import type { Command } from 'commander';
import { parseSize } from '../../bundle/size.js';
import { OfflineError } from '../../errors.js';
import { readCredentials } from '../../registry/credentials.js';
import type { PushRequest } from '../../registry/run-push.js';
import { interruptible } from '../interrupt.js';
import type { Output } from '../output.js';

export interface RegistryFlags {
  registry: string;
  insecure?: boolean;
  ca?: string;
  username?: string;
  passwordStdin?: boolean;
  chunkSize: string;
  concurrency: string;
}

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
    .option('--chunk-size <size>', 'bytes per upload request (PATCH)', '64M')
    .option('--concurrency <n>', 'blobs uploaded at the same time', '3');
}

export async function pushRequest(
  bundle: string,
  flags: RegistryFlags,
  output: Output,
): Promise<PushRequest> {
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new OfflineError('EUSAGE', `--concurrency "${flags.concurrency}" is not a positive whole number`);
  }
  const credentials = await readCredentials(flags);
  const silent = process.env.OFFLINE_SILENT === '1';
  return {
    bundle,
    registry: flags.registry,
    insecure: Boolean(flags.insecure),
    ...(flags.ca && { ca: flags.ca }),
    ...(credentials && { credentials }),
    chunkSize: parseSize(flags.chunkSize),
    concurrency,
    onStep: (message) => {
      if (!silent) output.info(message);
    },
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
export function pushSummary(
  result: Awaited<ReturnType<typeof import('../../registry/run-push.js').runPush>>,
) {
  const { blobs } = result;
  return [
    `pushed ${result.images.length} image(s) of ${result.bundle.name} ${result.bundle.version} to ${result.registry}`,
    `  blobs: ${blobs.uploaded} uploaded, ${blobs.resumed} resumed, ${blobs.mounted} mounted, ${blobs.present} already there; ${result.bytesSent} bytes sent`,
    ...result.images.flatMap((image) => image.tags.map((t) => `  ${t.reference}  ${image.id}`)),
    ...(result.untagged.length ? [`  not pushed (no tag): ${result.untagged.join(', ')}`] : []),
    ...(result.composeFile ? [`  stack files: ${path.dirname(result.composeFile)}`] : []),
    ...(result.composeOverride ? [`  compose override: ${result.composeOverride}`] : []),
    ...(result.backups ?? []).map((b) => `  backed up a changed file: ${b}`),
  ];
}
