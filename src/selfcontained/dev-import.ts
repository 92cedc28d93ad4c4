import { OfflineError } from '../errors.js';

/**
 * Loads a build tool that only a checkout has (esbuild, postject: devDependencies). Where it is missing (an
 * install without devDependencies, or offline.mjs itself) the error says what to do instead of a bare
 * "Cannot find package".
 */
export async function importBuildTool<T>(name: 'esbuild' | 'postject', why: string): Promise<T> {
  try {
    // offline.mjs runs its CLI as CommonJS through node:vm (single-file-main.ts), where Node 20 allows no
    // import() of a module it does not carry; require() finds it in the checkout's node_modules.
    return (typeof OFFLINE_SINGLE_FILE === 'string' ? require(name) : await import(name)) as T;
  } catch (error) {
    throw new OfflineError('EMISSING', `${name} is not installed here; it is needed to ${why}`, {
      file: name,
      hint: 'run the export from a checkout of offline after npm ci (make build)',
      cause: error,
    });
  }
}
