import path from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar';
import { toPosix } from '../fs/safe-path.js';
import { readDockerignore, sentToEngine } from './dockerignore.js';

/**
 * The build context as a tar stream, built while it is sent: every file under `context` except what its
 * .dockerignore leaves out. The Dockerfile and .dockerignore always go, as the docker CLI sends them, even when
 * the .dockerignore leaves out the folder the Dockerfile sits in.
 */
export async function buildContextStream(context: string, dockerfile: string): Promise<Readable> {
  const rules = await readDockerignore(context);
  const sent = sentToEngine(rules, toPosix(path.relative(context, path.resolve(context, dockerfile))));
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
