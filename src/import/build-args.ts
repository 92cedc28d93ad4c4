import { OfflineError } from '../errors.js';

/** A build arg given by `--build-arg`, as docker takes it. */
export interface GivenBuildArg {
  name: string;
  /**
   * option: `KEY=VALUE`; environment: `KEY`, the value from the environment; default: `KEY` not in the
   * environment, so the build gets no value for it and the Dockerfile's `ARG KEY=default` applies.
   */
  source: 'option' | 'environment' | 'default';
  value?: string;
}

/** A build arg of the build: where it came from; its value only when the bundle's manifest already holds it. */
export interface BuildArgUsed {
  name: string;
  /** recorded: the value the bundle recorded at export; else as in GivenBuildArg. */
  source: 'recorded' | GivenBuildArg['source'];
  /** Only for a recorded arg: a given value may be a secret (a token from the environment), so none is echoed. */
  value?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses `--build-arg` values as `docker build` does: `KEY=VALUE` (the value may hold `=`), or `KEY` taking
 * the value from `env`. A name that is empty or not [A-Za-z_][A-Za-z0-9_]* is EUSAGE naming it; the value is
 * never repeated in the message. The same name given twice: the last one counts.
 */
export function parseBuildArgs(specs: readonly string[], env: NodeJS.ProcessEnv): GivenBuildArg[] {
  const given = new Map<string, GivenBuildArg>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq < 0 ? spec : spec.slice(0, eq);
    if (!NAME.test(name)) {
      throw new OfflineError(
        'EUSAGE',
        name === ''
          ? `--build-arg ${eq < 0 ? '""' : '=...'}: empty build arg name`
          : `--build-arg ${JSON.stringify(name)}: not a build arg name`,
        { expected: 'KEY=VALUE or KEY, KEY matching [A-Za-z_][A-Za-z0-9_]*', found: name },
      );
    }
    const value = eq < 0 ? env[name] : spec.slice(eq + 1);
    given.delete(name);
    given.set(name, {
      name,
      source: eq >= 0 ? 'option' : value === undefined ? 'default' : 'environment',
      ...(value !== undefined && { value }),
    });
  }
  return [...given.values()];
}

/**
 * The build args of a rebuild: the recorded ones, each given one replacing its namesake (one the environment
 * lacks drops it, so the Dockerfile's default applies). `args` goes to the engine, `used` into the result.
 */
export function mergeBuildArgs(
  recorded: Readonly<Record<string, string>> = {},
  given: readonly GivenBuildArg[] = [],
): { args: Record<string, string>; used: BuildArgUsed[] } {
  const args: Record<string, string> = { ...recorded };
  const used = new Map<string, BuildArgUsed>(
    Object.entries(recorded).map(([name, value]) => [name, { name, source: 'recorded', value }]),
  );
  for (const arg of given) {
    if (arg.value === undefined) delete args[arg.name];
    else args[arg.name] = arg.value;
    used.set(arg.name, { name: arg.name, source: arg.source });
  }
  return { args, used: [...used.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}
