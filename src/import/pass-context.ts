import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { type ContextFilter, contextFilter } from '../export/build-context.js';
import { toPosix } from '../fs/safe-path.js';
import { passSources, sourceFilter } from './pass-sources.js';

/** What a stage pass sends of the build context, as the rebuild reports it. */
export type PassContextSent =
  /** The sources the pass's stages read, and the files and bytes of the context that go for them. */
  | { sources: string[]; files: number; bytes: number }
  /** The whole context, and why. */
  | { whole: string };

export interface PassContext {
  /** What of the context to send (contextStream): the .dockerignore applied, and for sources only what they read. */
  filter: ContextFilter;
  sent: PassContextSent;
}

/**
 * What a stage pass sends: only the files its stages' COPY and ADD lines read (pass-sources.ts), so a large
 * context the earlier stages do not use (the application's source, model files) is sent once, for the
 * service's build, not once per stage. The whole context goes when the Dockerfile does not say exactly (see
 * passSources), when a FROM base carries ONBUILD triggers (`onBuildBases`: they may COPY anything), and when
 * what the sources read holds a symbolic link: the builder follows a link that a source names or passes
 * through, to files the sources do not name.
 */
export async function passContext(
  context: string,
  dockerfile: string,
  dockerfileText: string,
  target: string,
  onBuildBases: readonly string[] = [],
): Promise<PassContext> {
  const whole = async (why: string) => ({
    filter: await contextFilter(context, dockerfile),
    sent: { whole: why },
  });
  if (onBuildBases.length > 0) return whole(`ONBUILD triggers in ${onBuildBases.join(', ')}`);
  const read = passSources(dockerfileText, target);
  if ('whole' in read) return whole(read.whole);
  const sent = await contextFilter(context, dockerfile, sourceFilter(read.sources));
  let files = 0;
  let bytes = 0;
  async function visit(dir: string): Promise<string | undefined> {
    for await (const entry of await opendir(dir)) {
      const absolute = path.join(dir, entry.name);
      const relative = toPosix(path.relative(context, absolute));
      // A link may stand for a folder on the way to a source (conf -> /etc/app for COPY conf/app.ini).
      const link = entry.isSymbolicLink();
      if (!sent(relative, entry.isDirectory()) && !(link && sent(relative, true))) continue;
      if (link) return relative;
      if (entry.isDirectory()) {
        const inside = await visit(absolute);
        if (inside !== undefined) return inside;
      } else {
        files++;
        bytes += (await lstat(absolute)).size;
      }
    }
    return undefined;
  }
  const link = await visit(context);
  if (link !== undefined) return whole(`a symbolic link among what the stages read: ${link}`);
  return { filter: sent, sent: { sources: read.sources, files, bytes } };
}
