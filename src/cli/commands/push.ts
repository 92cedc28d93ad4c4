import type { Command } from 'commander';
import { parseSize } from '../../bundle/size.js';
import { OfflineError } from '../../errors.js';
import { readCredentials } from '../../registry/credentials.js';
import { runPush } from '../../registry/run-push.js';
import { action } from '../run.js';

export interface PushFlags {
  registry: string;
  insecure?: boolean;
  ca?: string;
  username?: string;
  passwordStdin?: boolean;
  composeOverride?: string;
  chunkSize: string;
  concurrency: string;
}

export function registerPush(program: Command): void {
  program
    .command('push')
    .description(
      'push every image of a bundle into a registry (HTTP API v2, no Docker engine needed), verifying the bundle as it streams',
    )
    .argument('<bundle>', 'the bundle archive, any of its parts, or the folder holding them')
    .requiredOption(
      '--registry <host[:port][/prefix]>',
      'the registry, and a repository prefix for the images',
    )
    .option('--insecure', 'talk plain HTTP to the registry')
    .option('--ca <file>', 'a CA certificate (PEM) to trust for the registry TLS certificate')
    .option('--username <user>', 'registry user (or OFFLINE_REGISTRY_USER)')
    .option('--password-stdin', 'read the password from standard input (or OFFLINE_REGISTRY_PASSWORD)')
    .option('--compose-override <file>', 'write a compose override pointing the services at the registry')
    .option('--chunk-size <size>', 'bytes per upload request (PATCH)', '64M')
    .option('--concurrency <n>', 'blobs uploaded at the same time', '3')
    .addHelpText(
      'after',
      '\nExample:\n  offline push ./demo-1.0.0.offline.tar.gz --registry registry.local:5000/demo \\\n    --compose-override docker-compose.registry.yml\n  docker compose -f docker-compose.yml -f docker-compose.registry.yml pull   # on each host',
    )
    .action(
      action(async (output, bundle: string, flags: PushFlags) => {
        const concurrency = Number(flags.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1) {
          throw new OfflineError(
            'EUSAGE',
            `--concurrency "${flags.concurrency}" is not a positive whole number`,
          );
        }
        const credentials = await readCredentials(flags);
        const silent = process.env.OFFLINE_SILENT === '1';
        const result = await runPush({
          bundle,
          registry: flags.registry,
          insecure: Boolean(flags.insecure),
          ...(flags.ca && { ca: flags.ca }),
          ...(credentials && { credentials }),
          chunkSize: parseSize(flags.chunkSize),
          concurrency,
          ...(flags.composeOverride && { composeOverride: flags.composeOverride }),
          onStep: (message) => {
            if (!silent) output.info(message);
          },
        });
        const { blobs } = result;
        return {
          data: { ...result },
          summary: [
            `pushed ${result.images.length} image(s) of ${result.bundle.name} ${result.bundle.version} to ${result.registry}`,
            `  blobs: ${blobs.uploaded} uploaded, ${blobs.resumed} resumed, ${blobs.mounted} mounted, ${blobs.present} already there; ${result.bytesSent} bytes sent`,
            ...result.images.flatMap((image) => image.tags.map((t) => `  ${t.reference}  ${image.id}`)),
            ...(result.untagged.length ? [`  not pushed (no tag): ${result.untagged.join(', ')}`] : []),
            ...(result.composeOverride ? [`  compose override: ${result.composeOverride}`] : []),
          ],
        };
      }),
    );
}
