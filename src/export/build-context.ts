import path from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar';
import { toPosix } from '../fs/safe-path.js';
import { readDockerignore, sentToEngine } from './dockerignore.js';

/** Whether an entry of a build context (a POSIX path relative to it) goes to the engine; a folder: is entered. */
export type ContextFilter = (relative: string, directory: boolean) => boolean;

/**
 * What of `context` goes to the engine: what its .dockerignore keeps, and always the Dockerfile and the
 * .dockerignore, as the docker CLI sends them, even when the .dockerignore leaves out the folder the Dockerfile
 * sits in. With `keep`, only what it keeps of that (the Dockerfile and .dockerignore still go).
 */
export async function contextFilter(
  context: string,
  dockerfile: string,
  keep?: ContextFilter,
): Promise<ContextFilter> {
  const rules = await readDockerignore(context);
  const file = toPosix(path.relative(context, path.resolve(context, dockerfile)));
  const sent = sentToEngine(rules, file);
  if (!keep) return sent;
  return (relative, directory) =>
    sent(relative, directory) &&
    (relative === '.dockerignore' ||
      relative === file ||
      (directory && file.startsWith(`${relative}/`)) ||
      keep(relative, directory));
}

/** The build context as a tar stream, built while it is sent: what its .dockerignore keeps (contextFilter). */
export async function buildContextStream(context: string, dockerfile: string): Promise<Readable> {
  return contextStream(context, await contextFilter(context, dockerfile));
}

/** The entries of `context` that `sent` keeps, as a tar stream built while it is sent. */
export function contextStream(context: string, sent: ContextFilter): Readable {
  const stream = tar.c(
    {
      cwd: context,
      portable: true,
      follow: false,
      // node-tar reads up to 16 MiB at a time by default; 1 MiB keeps memory flat for big contexts.
      maxReadSize: 1024 * 1024,
      filter: (entryPath, stat) => {
        const relative = entryPath.replace(/^\.\/?/, '');
        return relative === '' || sent(relative, 'isDirectory' in stat && stat.isDirectory());
      },
    },
    ['.'],
  );
  return stream as unknown as Readable;
}
