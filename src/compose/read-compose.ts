import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OfflineError } from '../errors.js';
import { parseYaml } from '../fs/yaml.js';
import { type ComposeTool, detectComposeTool } from './detect-tool.js';
import { interpolate } from './interpolate.js';
import type { ComposeProject } from './model.js';
import { assertImageOrBuild, normalizeServices, profilesOf, selectServices } from './normalize.js';
import { runTool } from './run-tool.js';

export interface ReadComposeOptions {
  file: string;
  /** The compose project name (the bundle name). */
  project: string;
  /** Narrow to these profiles; default: every profile the file declares. */
  profiles?: readonly string[];
  /** Which tool to use; detected when not given. */
  tool?: ComposeTool;
  env?: NodeJS.ProcessEnv;
  /** Told when no compose tool exists and the file is read as plain YAML. */
  warn?: (message: string) => void;
}

function hasExtends(document: unknown, service: string): boolean {
  const services = (document as { services?: Record<string, { extends?: unknown } | null> }).services;
  return services?.[service]?.extends !== undefined;
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new OfflineError('ECOMPOSE', `${file}: cannot read the compose file (${error.code})`, { file });
  });
}

async function parseYamlText(text: string, file: string): Promise<unknown> {
  try {
    return await parseYaml(text);
  } catch (error) {
    throw new OfflineError('ECOMPOSE', `${file}: not valid YAML (${(error as Error).message})`, { file });
  }
}

/**
 * Reads a compose file through the real compose tool where one is installed (`config --format json` with
 * compose v2, plugin or standalone; docker-compose 1.x's `config`, whose YAML output is parsed), so
 * interpolation, profiles and defaults are the tool's. Without either it parses the YAML itself (with ${VAR}
 * interpolation) and warns.
 */
export async function readCompose(options: ReadComposeOptions): Promise<ComposeProject> {
  const file = path.resolve(options.file);
  const env = options.env ?? process.env;
  const raw = await parseYamlText(await readText(file), file);
  const rawServices = normalizeServices(raw, file, env);
  // Checked before the tool runs so the message is ours; `extends` may supply the image, the tool decides then.
  assertImageOrBuild(
    rawServices.filter((s) => !hasExtends(raw, s.name)),
    file,
  );
  const allProfiles = profilesOf(rawServices);
  const unknown = (options.profiles ?? []).filter((p) => !allProfiles.includes(p));
  if (unknown.length > 0) {
    throw new OfflineError('EUSAGE', `${file}: no service uses profile(s) ${unknown.join(', ')}`, {
      file,
      expected: allProfiles.join(', ') || '(no profiles)',
      found: unknown.join(', '),
    });
  }
  const profiles = options.profiles ? [...options.profiles].sort() : allProfiles;
  const tool = options.tool ?? (await detectComposeTool(env));
  let document: unknown;
  if (tool.kind === 'yaml') {
    options.warn?.(`no compose tool found (docker compose, docker-compose): reading ${file} as plain YAML`);
    document = await parseYamlText(interpolate(await readText(file), env), file);
  } else {
    const profileArgs = profiles.flatMap((p) => ['--profile', p]);
    const common = ['-f', file, '-p', options.project, ...profileArgs, 'config'];
    const format = tool.v2Flags ? ['--format', 'json'] : [];
    const run = await runTool(tool.program, [...tool.prefix, ...common, ...format], {
      env,
      cwd: path.dirname(file),
    });
    if (run.code !== 0) {
      const why = run.stderr.trim().split('\n').slice(-3).join(' ');
      // The tool's own words are the message: no expected/found pair to repeat them.
      throw new OfflineError('ECOMPOSE', `${file}: ${tool.label} config failed: ${why}`, { file });
    }
    document = tool.v2Flags ? JSON.parse(run.stdout) : await parseYamlText(run.stdout, file);
  }
  const resolved = normalizeServices(document, file, env);
  assertImageOrBuild(resolved, file);
  const services = selectServices(resolved, profiles);
  return { file, tool: tool.label, allProfiles, profiles, services };
}
