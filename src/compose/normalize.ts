import path from 'node:path';
import { OfflineError } from '../errors.js';
import type { ComposeBuild, ComposeService } from './model.js';

type Raw = Record<string, unknown>;

function asRecord(value: unknown): Raw | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Raw) : undefined;
}

/** Build args come as a map or as a list of KEY=VALUE; a key without a value takes it from the environment. */
function normalizeArgs(raw: unknown, env: NodeJS.ProcessEnv): Record<string, string> {
  const args: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const text = String(item);
      const eq = text.indexOf('=');
      if (eq < 0) {
        const value = env[text];
        if (value !== undefined) args[text] = value;
      } else args[text.slice(0, eq)] = text.slice(eq + 1);
    }
  } else {
    for (const [key, value] of Object.entries(asRecord(raw) ?? {})) {
      if (value === null || value === undefined) {
        const fromEnv = env[key];
        if (fromEnv !== undefined) args[key] = fromEnv;
      } else args[key] = String(value);
    }
  }
  return args;
}

function normalizeBuild(raw: unknown, baseDir: string, env: NodeJS.ProcessEnv): ComposeBuild | undefined {
  if (raw === undefined || raw === null) return undefined;
  const build = typeof raw === 'string' ? { context: raw } : (asRecord(raw) ?? {});
  const context = path.resolve(baseDir, String(build.context ?? '.'));
  const dockerfileRaw = String(build.dockerfile ?? 'Dockerfile');
  const dockerfile = path.isAbsolute(dockerfileRaw)
    ? path.relative(context, dockerfileRaw).split(path.sep).join('/')
    : dockerfileRaw;
  return {
    context,
    dockerfile,
    args: normalizeArgs(build.args, env),
    ...(build.target !== undefined && { target: String(build.target) }),
  };
}

/**
 * Turns the `services` map of a compose document (from `config` output or the raw YAML) into services.
 * Relative build contexts are resolved against baseDir (the compose file's folder).
 */
export function normalizeServices(
  document: unknown,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): ComposeService[] {
  const services = asRecord(asRecord(document)?.services);
  if (!services) {
    throw new OfflineError('ECOMPOSE', `${file}: no "services" in the compose file`, { file });
  }
  const baseDir = path.dirname(file);
  return Object.entries(services)
    .map(([name, value]) => {
      const raw = asRecord(value) ?? {};
      const build = normalizeBuild(raw.build, baseDir, env);
      const healthcheck = asRecord(raw.healthcheck);
      return {
        name,
        ...(typeof raw.image === 'string' && raw.image !== '' && { image: raw.image }),
        ...(build && { build }),
        profiles: Array.isArray(raw.profiles) ? raw.profiles.map(String) : [],
        healthcheck: Boolean(healthcheck) && healthcheck?.disable !== true,
        ...(typeof raw.platform === 'string' && { platform: raw.platform }),
      } satisfies ComposeService;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Refuses, naming service and file, a service with neither an image to pull nor a build context. */
export function assertImageOrBuild(services: readonly ComposeService[], file: string): void {
  const bad = services.find((s) => !s.image && !s.build);
  if (bad) {
    throw new OfflineError('ECOMPOSE', `service "${bad.name}" has neither "image" nor "build" in ${file}`, {
      file,
      found: bad.name,
      hint: 'give the service an image to pull or a build context',
    });
  }
}

/** Every profile named by any service, sorted. */
export function profilesOf(services: readonly ComposeService[]): string[] {
  return [...new Set(services.flatMap((s) => s.profiles))].sort();
}

/** The services a run with these profiles starts: those without profiles and those in one of them. */
export function selectServices(
  services: readonly ComposeService[],
  profiles: readonly string[],
): ComposeService[] {
  const wanted = new Set(profiles);
  return services.filter((s) => s.profiles.length === 0 || s.profiles.some((p) => wanted.has(p)));
}
