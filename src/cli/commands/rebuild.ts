import type { Command } from 'commander';
import { connectDocker } from '../../docker/connect.js';
import { runRebuild } from '../../import/rebuild.js';
import { action } from '../run.js';

export function registerRebuild(program: Command): void {
  program
    .command('rebuild')
    .description(
      "rebuild a service from changed source on the air-gapped host, reusing the bundle's build cache (no pull, no network)",
    )
    .argument('<service>', 'the compose service to rebuild')
    .option('-t, --target <dir>', 'the folder the bundle was imported into', '.')
    .option('--context <dir>', "the changed build context (default: the service's context under the target)")
    .addHelpText(
      'after',
      '\nExample:\n  offline rebuild api --target /opt/demo --context ~/src/api\n  docker-compose -p demo up -d api          # run the rebuilt image',
    )
    .action(
      action(async (output, service: string, flags: { target: string; context?: string }) => {
        const engine = await connectDocker();
        const result = await runRebuild(
          engine,
          { service, target: flags.target, ...(flags.context !== undefined && { context: flags.context }) },
          {
            onLine: (line) => {
              if (output.debug) output.info(line);
            },
            onWarning: (message) => output.warn(message),
          },
        );
        return {
          data: { result },
          summary: [
            `rebuilt ${result.service} as ${result.image} (${result.id.slice(7, 19)})`,
            `  ${result.cached} of ${result.steps} steps from the build cache`,
          ],
        };
      }),
    );
}
