import { runTool } from './run-tool.js';

/**
 * How a compose tool is run: the program, the arguments before the compose subcommand, and whether it takes
 * the flags compose v2 added (`up --pull never`, `config --format json`), which docker-compose 1.x refuses.
 * The one place that decides it: reading a compose file (read-compose.ts), `offline import --start`
 * (compose-start.ts), import.sh and README.txt (up-command.ts) all run what these say.
 */
export interface ComposeInvocation {
  program: 'docker' | 'docker-compose';
  prefix: readonly string[];
  v2Flags: boolean;
}

/** The docker compose plugin (compose v2). */
export const COMPOSE_PLUGIN: ComposeInvocation = { program: 'docker', prefix: ['compose'], v2Flags: true };

/** A docker-compose 2.x installed standalone (the static binary, common on air-gapped hosts): v2's flags. */
export const COMPOSE_STANDALONE_V2: ComposeInvocation = {
  program: 'docker-compose',
  prefix: [],
  v2Flags: true,
};

/** docker-compose 1.x: no `--pull` on up, no `--format` on config. */
export const COMPOSE_V1: ComposeInvocation = { program: 'docker-compose', prefix: [], v2Flags: false };

export type ComposeTool =
  | ({ kind: 'v2' | 'v1'; label: string } & ComposeInvocation)
  | { kind: 'yaml'; label: 'yaml (no compose tool)' };

/**
 * Finds the compose tool to read compose files with: `docker compose` (v2 plugin) first, then
 * `docker-compose` (v1, or v2 installed standalone, told apart by `version --short`), else none (YAML only).
 */
export async function detectComposeTool(env: NodeJS.ProcessEnv = process.env): Promise<ComposeTool> {
  const plugin = await runTool('docker', ['compose', 'version', '--short'], { env });
  if (plugin.code === 0 && /^v?2\./.test(plugin.stdout.trim())) {
    return {
      kind: 'v2',
      label: `docker compose ${plugin.stdout.trim().replace(/^v/, '')}`,
      ...COMPOSE_PLUGIN,
    };
  }
  const standalone = await runTool('docker-compose', ['version', '--short'], { env });
  if (standalone.code === 0) {
    const version = standalone.stdout.trim().replace(/^v/, '');
    if (/^1\./.test(version)) return { kind: 'v1', label: `docker-compose ${version}`, ...COMPOSE_V1 };
    return { kind: 'v2', label: `docker-compose ${version}`, ...COMPOSE_STANDALONE_V2 };
  }
  return { kind: 'yaml', label: 'yaml (no compose tool)' };
}
