import path from 'node:path';
import type { BundleManifest } from '../bundle/manifest.js';
import { type ComposeInvocation, detectComposeTool } from '../compose/detect-tool.js';
import { runTool } from '../compose/run-tool.js';
import { SETTLE_MS } from '../compose/settle.js';
import { type ComposeScope, composeScopeArgs, upArgs } from '../compose/up-command.js';
import type { ContainerState, DockerEngine } from '../docker/engine.js';
import { OfflineError } from '../errors.js';
import { placedFile } from './target-layout.js';

const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';
/** Set to True on the containers of `compose run`, False on a service's own. */
const ONEOFF_LABEL = 'com.docker.compose.oneoff';
const LOG_LINES = 20;

/** The compose tool installed (detect-tool.ts: the docker compose plugin first, else docker-compose). */
async function installedCompose(): Promise<ComposeInvocation> {
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
  return tool;
}

/**
 * The argument lists `tool` runs to start the stack, in order: `up -d` with no build and, where the tool takes
 * it (compose v2, plugin or standalone), no pull; with `pullFirst` (an import from a registry, whose images are
 * not loaded) a `pull` before it.
 */
export function startCommands(tool: ComposeInvocation, scope: ComposeScope, pullFirst: boolean): string[][] {
  const base = composeScopeArgs(tool, scope);
  const up = [...base, ...upArgs(tool)];
  return pullFirst ? [[...base, 'pull'], up] : [up];
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
  const tool = await installedCompose();
  const { program } = tool;
  const files = [composeFile, ...(override ? [path.relative(target, override)] : [])];
  const scope = { project: manifest.project, files, profiles: manifest.compose.profiles };
  const commands = startCommands(tool, scope, Boolean(override));
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
 * Waits until every service of the project is ready, up to timeoutSeconds: healthy when it has a health check;
 * else running for SETTLE_MS since its last start, or exited 0 (a one-shot job, such as a migration, that is
 * done). A container that exited with another code, is dead or unhealthy fails at once; the error lists each
 * service not ready with its last log lines. Only the containers of `services` count (the bundle's, or all when
 * it names none; never the one-off containers of `compose run`, nor orphans of an earlier version).
 */
export async function waitForServices(
  engine: DockerEngine,
  project: string,
  services: readonly string[],
  timeoutSeconds: number,
  onStatus: (line: string) => void = () => {},
): Promise<ContainerState[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const containers = (await engine.listContainers(`${PROJECT_LABEL}=${project}`)).filter(
      (c) =>
        c.labels[ONEOFF_LABEL] !== 'True' &&
        (services.length === 0 || services.includes(c.labels[SERVICE_LABEL] ?? '')),
    );
    const now = Date.now();
    const pending = containers.filter((c) => verdict(c, now) === 'pending');
    const failed = containers.filter((c) => verdict(c, now) === 'failed');
    if (containers.length > 0 && pending.length === 0 && failed.length === 0) return containers;
    if (failed.length > 0 || now > deadline) {
      throw await notReady(engine, project, failed.length > 0 ? failed : pending, {
        timedOut: failed.length === 0,
        timeoutSeconds,
      });
    }
    onStatus(`waiting for ${pending.map(serviceOf).join(', ') || 'the containers'}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function verdict(c: ContainerState, now: number): 'ready' | 'pending' | 'failed' {
  if (c.health) return c.health === 'healthy' ? 'ready' : c.health === 'unhealthy' ? 'failed' : 'pending';
  if (c.state === 'exited') return c.exitCode === 0 ? 'ready' : 'failed';
  if (c.state === 'dead') return 'failed';
  if (c.state !== 'running') return 'pending';
  return now - Date.parse(c.startedAt) >= SETTLE_MS ? 'ready' : 'pending';
}

/** ESTART naming each container not ready, with what was expected, what was found and its last log lines. */
async function notReady(
  engine: DockerEngine,
  project: string,
  bad: ContainerState[],
  how: { timedOut: boolean; timeoutSeconds: number },
): Promise<OfflineError> {
  const problems: OfflineError[] = [];
  for (const c of bad) {
    const logs = (await engine.containerLogs(c.id, LOG_LINES).catch(() => '')).trimEnd();
    const found = c.health ?? (c.state === 'exited' ? `exited with code ${c.exitCode}` : c.state);
    problems.push(
      new OfflineError('ESTART', `${serviceOf(c)}: ${found}${logs ? `; last log lines:\n${logs}` : ''}`, {
        file: c.name,
        expected: c.health ? 'healthy' : `running for ${SETTLE_MS / 1000} s, or exited 0`,
        found,
      }),
    );
  }
  const when = how.timedOut ? ` after ${how.timeoutSeconds} s` : '';
  return new OfflineError('ESTART', `stack ${project}: ${bad.length} service(s) not ready${when}`, {
    file: project,
    problems,
  });
}

function serviceOf(c: ContainerState): string {
  return c.labels[SERVICE_LABEL] ?? c.name;
}
