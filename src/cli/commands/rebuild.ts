import type { Command } from 'commander';
import { type BuildArgUsed, parseBuildArgs } from '../../import/build-args.js';
import { action } from '../run.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Names only: a given value may be a secret; --json carries the values the manifest already holds. */
function describeArgs(used: readonly BuildArgUsed[]): string[] {
  const recorded = used.filter((a) => a.source === 'recorded').map((a) => a.name);
  const given = used
    .filter((a) => a.source !== 'recorded')
    .map((a) =>
      a.source === 'environment'
        ? `${a.name} (from the environment)`
        : a.source === 'default'
          ? `${a.name} (the Dockerfile's default)`
          : a.name,
    );
  return [
    ...(given.length > 0 ? [`  build args given: ${given.join(', ')}`] : []),
    ...(recorded.length > 0 ? [`  build args as recorded in the bundle: ${recorded.join(', ')}`] : []),
  ];
}

export function registerRebuild(program: Command): void {
  program
    .command('rebuild')
    .description(
      "rebuild a service from changed source on the air-gapped host, reusing the bundle's build cache (no pull, no network)",
    )
    .argument('<service>', 'the compose service to rebuild')
    .option('-t, --target <dir>', 'the folder the bundle was imported into', '.')
    .option('--context <dir>', "the changed build context (default: the service's context under the target)")
    .option(
      '--build-arg <KEY[=VALUE]>',
      'set a build arg for this build, replacing the recorded one (repeatable; KEY alone: from the environment)',
      collect,
    )
    .addHelpText(
      'after',
      '\nExample:\n  offline rebuild api --target /opt/demo --context ~/src/api\n  offline rebuild api --target /opt/demo --build-arg APP_VERSION=1.2.1 --build-arg NPM_TOKEN\n  docker-compose -p demo up -d api          # run the rebuilt image',
    )
    .action(
      action(
        async (output, service: string, flags: { target: string; context?: string; buildArg?: string[] }) => {
          // Before the engine is reached: a malformed --build-arg is a usage error whatever the engine's state.
          const buildArgs = parseBuildArgs(flags.buildArg ?? [], process.env);
          const [{ connectDocker }, { runRebuild }, { describeSent }] = await Promise.all([
            import('../../docker/connect.js'),
            import('../../import/rebuild.js'),
            import('../../import/stage-passes.js'),
          ]);
          const engine = await connectDocker();
          const result = await runRebuild(
            engine,
            {
              service,
              target: flags.target,
              ...(flags.context !== undefined && { context: flags.context }),
              buildArgs,
            },
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
              `  ${result.cached} of ${result.cacheable} cacheable steps from the build cache (${result.steps} steps in all)`,
              ...result.stagePasses.map(
                (pass) =>
                  `  stage ${pass.target} built first: ${pass.cached} of ${pass.cacheable} cacheable steps from the cache; sent ${describeSent(pass.context)}`,
              ),
              ...describeArgs(result.buildArgs),
            ],
          };
        },
      ),
    );
}
