import type { Command } from 'commander';
import { BUNDLE_ARGUMENT } from '../bundle-argument.js';
import { action } from '../run.js';
import {
  addRegistryOptions,
  interruptibleUpload,
  pushRequest,
  pushSummary,
  type RegistryFlags,
} from './registry-options.js';

interface PushFlags extends RegistryFlags {
  composeOverride?: string;
  target?: string;
  force?: boolean;
}

export function registerPush(program: Command): void {
  const command = program
    .command('push')
    .description(
      'push every image of a bundle into a registry (HTTP API v2, no Docker engine needed), verifying the bundle as it streams',
    )
    .argument('<bundle>', BUNDLE_ARGUMENT);
  addRegistryOptions(command)
    .option('--compose-override <file>', 'write a compose override pointing the services at the registry')
    .option(
      '-t, --target <dir>',
      "also place the stack's files, tiktoken cache and .env here, with docker-compose.registry.yml beside them",
    )
    .option('--force', 'with --target: replace files you changed there (each is backed up first)')
    .addHelpText(
      'after',
      '\nExample:\n  offline push ./demo-1.0.0.offline.tar.gz --registry registry.local:5000/demo --target ./demo-stack\n  # copy ./demo-stack to each host, then there:\n  docker compose -f docker-compose.yml -f docker-compose.registry.yml pull\n  docker compose -f docker-compose.yml -f docker-compose.registry.yml up -d',
    )
    .action(
      action(async (output, bundle: string, flags: PushFlags) => {
        const { runPush } = await import('../../registry/run-push.js');
        const request = await pushRequest(bundle, flags, output);
        const result = await interruptibleUpload(output, (signal) =>
          runPush({
            ...request,
            signal,
            ...(flags.composeOverride && { composeOverride: flags.composeOverride }),
            ...(flags.target && { stackDir: flags.target, force: Boolean(flags.force) }),
          }),
        );
        return { data: { ...result }, summary: pushSummary(result) };
      }),
    );
}
