import type { Command } from 'commander';
import { OfflineError } from '../../errors.js';
import { BUNDLE_ARGUMENT } from '../bundle-argument.js';
import { positiveWholeNumber } from '../option-values.js';
import { action } from '../run.js';
import {
  addRegistryOptions,
  interruptibleUpload,
  pushRequest,
  pushSummary,
  type RegistryFlags,
} from './registry-options.js';

interface DeployFlags extends RegistryFlags {
  swarm?: boolean;
  target: string;
  name?: string;
  timeout: string;
  force?: boolean;
}

export function registerDeploy(program: Command): void {
  const command = program
    .command('deploy')
    .description(
      'push a bundle into a registry and deploy its stack on a Docker Swarm (docker stack deploy), whose nodes pull from the registry',
    )
    .argument('<bundle>', BUNDLE_ARGUMENT);
  addRegistryOptions(command)
    .option('--swarm', 'deploy with docker stack deploy on the Swarm manager DOCKER_HOST names (required)')
    .requiredOption('-t, --target <dir>', "folder for the stack's files and docker-compose.registry.yml")
    .option('--force', 'replace files you changed in the target folder (each is backed up first)')
    .option('--name <stack>', "the stack's name (default: the bundle's compose project)")
    .option(
      '--timeout <seconds>',
      'how long to wait for every service to run all its replicas (or, for a job, to complete)',
      '180',
    )
    .addHelpText(
      'after',
      '\nExample:\n  offline deploy ./demo-1.0.0.offline.tar.gz --swarm --registry registry.local:5000/demo --target /opt/demo',
    )
    .action(
      action(async (output, bundle: string, flags: DeployFlags) => {
        if (!flags.swarm) {
          throw new OfflineError('EUSAGE', 'deploy needs --swarm (the only orchestrator it deploys to)');
        }
        const timeout = positiveWholeNumber('--timeout', flags.timeout);
        const [{ runPush }, { deployStack }, { waitForStack }] = await Promise.all([
          import('../../registry/run-push.js'),
          import('../../registry/stack-deploy.js'),
          import('../../registry/stack-wait.js'),
        ]);
        const request = await pushRequest(bundle, flags, output);
        const result = await interruptibleUpload(output, (signal) =>
          runPush({ ...request, signal, stackDir: flags.target, force: Boolean(flags.force) }),
        );
        const name = flags.name ?? result.project;
        if (!result.composeFile || !result.stackOverride) {
          throw new OfflineError('EFORMAT', `${bundle}: the bundle has no compose file to deploy`, {
            file: bundle,
          });
        }
        await deployStack(name, result.composeFile, result.stackOverride);
        const services = await waitForStack(name, timeout);
        return {
          data: { ...result, stack: { name, services } },
          summary: [
            ...pushSummary(result),
            `deployed stack ${name}: ${services.map((s) => `${s.name} ${s.state === 'completed' ? 'completed' : s.replicas}`).join(', ')}`,
          ],
        };
      }),
    );
}
