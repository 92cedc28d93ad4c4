import path from 'node:path';
import type { BundleManifest } from '../bundle/manifest.js';
import { detectComposeTool } from '../compose/detect-tool.js';
import { runTool } from '../compose/run-tool.js';
import type { ContainerState, DockerEngine } from '../docker/engine.js';
import { OfflineError } from '../errors.js';
import { placedFile } from './target-layout.js';

const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';
const LOG_LINES = 20;

/** The compose command line for what is installed: `docker compose` (v2 plugin) first, else `docker-compose`. */
async function composeCommand(): Promise<{ program: string; prefix: string[] }> {
  const tool = await detectComposeTool();
  if (tool.kind === 'yaml') {
    throw new OfflineError(
      'ESTART',
      'no compose tool found: install the docker compose plugin or docker-compose',
      {
        hint: 'or start the stack by hand; the images are loaded',
      },
    );
  }
  return tool.label.startsWith('docker compose')
    ? { program: 'docker', prefix: ['compose'] }
    : { program: 'docker-compose', prefix: [] };
}

/**
 * `up -d` with no build and no pull, project name from the manifest, run in the target folder. With a compose
 * override (an import from a registry, whose images are not loaded), `pull` from the registry first. The
 * compose file must be one the bundle lists, placed inside the target (EUNSAFE_PATH before anything runs).
 * Returns the command lines run.
 */
export async function startStack(
  manifest: BundleManifest,
  target: string,
  override?: string,
): Promise<string> {
  const composeFile = path.relative(
    path.resolve(target),
    placedFile(manifest, manifest.compose.file, target, 'compose.file'),
  );
  const { program, prefix } = await composeCommand();
  const files = ['-f', composeFile, ...(override ? ['-f', path.relative(target, override)] : [])];
  const profiles = manifest.compose.profiles.flatMap((p) => ['--profile', p]);
  const base = [...prefix, '-p', manifest.project, ...files, ...profiles];
  const up = [...base, 'up', '-d', '--no-build', ...(program === 'docker' ? ['--pull', 'never'] : [])];
  const commands = override ? [[...base, 'pull'], up] : [up];
  for (const args of commands) {
    const run = await runTool(program, args, { cwd: path.resolve(target) });
    if (run.code !== 0) {
      throw new OfflineError(
        'ESTART',
        `${program} ${args.join(' ')} failed: ${run.stderr.trim().split('\n').slice(-5).join(' | ')}`,
        { file: composeFile },
      );
    }
  }
  return commands.map((args) => `${program} ${args.join(' ')}`).join(' && ');
}

/**
 * Waits until every container of the project is healthy (services with a health check) or running (the
 * others), up to timeoutSeconds. On failure the error lists each unhealthy service with its last log lines.
 */
export async function waitForStack(
  engine: DockerEngine,
  project: string,
  timeoutSeconds: number,
  onStatus: (line: string) => void = () => {},
): Promise<ContainerState[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let containers: ContainerState[] = [];
  for (;;) {
    containers = await engine.listContainers(`${PROJECT_LABEL}=${project}`);
    const pending = containers.filter((c) => !isReady(c));
    const failed = containers.filter(
      (c) => c.state === 'exited' || c.state === 'dead' || c.health === 'unhealthy',
    );
    if (containers.length > 0 && pending.length === 0) return containers;
    if (failed.length > 0 || Date.now() > deadline) {
      const bad = failed.length > 0 ? failed : pending;
      const problems: OfflineError[] = [];
      for (const c of bad) {
        const logs = (await engine.containerLogs(c.id, LOG_LINES).catch(() => '')).trimEnd();
        problems.push(
          new OfflineError(
            'ESTART',
            `${c.labels[SERVICE_LABEL] ?? c.name}: ${c.health ?? c.state}${logs ? `; last log lines:\n${logs}` : ''}`,
            {
              file: c.name,
              expected: c.health ? 'healthy' : 'running',
              found: c.health ?? c.state,
            },
          ),
        );
      }
      throw new OfflineError(
        'ESTART',
        `stack ${project}: ${bad.length} service(s) not ready${Date.now() > deadline ? ` after ${timeoutSeconds} s` : ''}`,
        {
          file: project,
          problems,
        },
      );
    }
    onStatus(`waiting for ${pending.map((c) => c.labels[SERVICE_LABEL] ?? c.name).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function isReady(c: ContainerState): boolean {
  return c.health ? c.health === 'healthy' : c.state === 'running';
}
