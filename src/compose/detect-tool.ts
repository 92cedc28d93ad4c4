import { runTool } from './run-tool.js';

export type ComposeTool =
  | { kind: 'v2'; label: string }
  | { kind: 'v1'; label: string }
  | { kind: 'yaml'; label: 'yaml (no compose tool)' };

/**
 * Finds the compose tool to read compose files with: `docker compose` (v2 plugin) first, then
 * `docker-compose` (v1, or v2 installed standalone), else none (YAML only).
 */
export async function detectComposeTool(env: NodeJS.ProcessEnv = process.env): Promise<ComposeTool> {
  const plugin = await runTool('docker', ['compose', 'version', '--short'], { env });
  if (plugin.code === 0 && /^v?2\./.test(plugin.stdout.trim())) {
    return { kind: 'v2', label: `docker compose ${plugin.stdout.trim().replace(/^v/, '')}` };
  }
  const standalone = await runTool('docker-compose', ['version', '--short'], { env });
  if (standalone.code === 0) {
    const version = standalone.stdout.trim().replace(/^v/, '');
    if (/^1\./.test(version)) return { kind: 'v1', label: `docker-compose ${version}` };
    return { kind: 'v2', label: `docker-compose ${version}` };
  }
  return { kind: 'yaml', label: 'yaml (no compose tool)' };
}
