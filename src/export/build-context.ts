import type { Readable } from 'node:stream';
import * as tar from 'tar';
import { readDockerignore } from './dockerignore.js';

/**
 * The build context as a tar stream, built while it is sent: every file under `context` except what its
 * .dockerignore leaves out. The Dockerfile and .dockerignore always go, as the docker CLI sends them.
 */
export async function buildContextStream(context: string, dockerfile: string): Promise<Readable> {
  const rules = await readDockerignore(context);
  const always = new Set([dockerfile.replace(/^\.\//, ''), '.dockerignore']);
  const stream = tar.c(
    {
      cwd: context,
      portable: true,
      follow: false,
      // node-tar reads up to 16 MiB at a time by default; 1 MiB keeps memory flat for big contexts.
      maxReadSize: 1024 * 1024,
      filter: (entryPath, stat) => {
        const relative = entryPath.replace(/^\.\/?/, '');
        if (relative === '' || always.has(relative)) return true;
        if (!rules.ignores(relative)) return true;
        // An ignored folder is still walked when a `!` rule may re-include something inside it.
        return rules.hasExceptions && 'isDirectory' in stat && stat.isDirectory();
      },
    },
    ['.'],
  );
  return stream as unknown as Readable;
}
