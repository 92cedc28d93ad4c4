import path from 'node:path';
import { parseDockerfile, stagesBuilt } from '../export/dockerfile-stages.js';

/**
 * What of the build context the stages a pass builds read: the sources of their COPY and ADD lines (context-
 * relative POSIX paths, `*` and `?` kept as globs), or `whole` with why they cannot be told from the
 * Dockerfile alone, and the whole context must go.
 */
export type PassSources = { sources: string[] } | { whole: string };

/**
 * The context sources of the stages a classic build with `target` runs (stagesBuilt: every stage up to it).
 * A stage pass that sends only these gets the same COPY and ADD inputs, so the same cache answers: the builder
 * hashes only the files a source matches. Anything that may reach other files gives `whole`: a source that is
 * the context root (or `*`), one with a variable, an escape (a backslash or, under an escape directive, a
 * backtick) or a character class, a heredoc, an ONBUILD line (its trigger runs in a later stage).
 */
export function passSources(dockerfile: string, target: string): PassSources {
  const { stages } = parseDockerfile(dockerfile);
  const onBuild = stages.flatMap((s) => s.instructions).find((line) => /^onbuild\s/i.test(line));
  if (onBuild) return { whole: `ONBUILD in the Dockerfile (${onBuild})` };
  const sources = new Set<string>();
  for (const stage of stagesBuilt(stages, target)) {
    for (const line of stage.instructions) {
      const keyword = line.split(/\s/, 1)[0] ?? '';
      const instruction = keyword.toUpperCase();
      if (instruction !== 'COPY' && instruction !== 'ADD') continue;
      const read = lineSources(instruction, line.slice(keyword.length).trim());
      if ('whole' in read) return { whole: `${read.whole} (${line})` };
      for (const source of read.sources) sources.add(source);
    }
  }
  return { sources: [...sources].sort() };
}

/**
 * The context sources of one COPY or ADD line, given what follows the instruction (none for COPY --from, nor
 * for an ADD of a URL or git repository).
 */
function lineSources(instruction: string, text: string): PassSources {
  const flagText = /^(?:--\S+\s+)*/.exec(text)?.[0] ?? '';
  if (/(^|\s)--from=/i.test(flagText)) return { sources: [] };
  const rest = text.slice(flagText.length);
  if (rest.includes('<<')) return { whole: 'a heredoc' };
  let args: string[];
  if (rest.startsWith('[')) {
    try {
      args = JSON.parse(rest) as string[];
    } catch {
      return { whole: 'a JSON form that does not parse' };
    }
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) {
      return { whole: 'a JSON form that is not a list of strings' };
    }
  } else {
    args = rest.split(' ').filter(Boolean);
  }
  const sources: string[] = [];
  for (const source of args.slice(0, -1)) {
    if (instruction === 'ADD' && /^([a-z][a-z0-9+.-]*:\/\/|git@)/i.test(source)) continue;
    if (/[$\\`[]/.test(source)) return { whole: `the source ${source}` };
    // As the builder resolves it: inside the context whatever its `..` and leading slash.
    const clean = path.posix.normalize(`/${source}`).slice(1).replace(/\/$/, '');
    if (clean === '' || clean === '*') return { whole: `the source ${source}` };
    sources.push(clean);
  }
  return { sources };
}

/**
 * Whether a context entry is one a source reads: at or under a path the source matches (each of its segments
 * a literal or a glob of `*` and `?`, which match no `/`), or a folder on the way to one.
 */
export function sourceFilter(sources: readonly string[]): (relative: string, directory: boolean) => boolean {
  const patterns = sources.map((source) => source.split('/').map(segmentMatcher));
  return (relative, directory) => {
    const segments = relative.split('/');
    return patterns.some((pattern) => {
      const depth = Math.min(pattern.length, segments.length);
      for (let i = 0; i < depth; i++) if (!pattern[i]?.(segments[i] as string)) return false;
      return segments.length >= pattern.length || directory;
    });
  };
}

function segmentMatcher(segment: string): (name: string) => boolean {
  if (!/[*?]/.test(segment)) return (name) => name === segment;
  const body = segment
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const regex = new RegExp(`^${body}$`);
  return (name) => regex.test(name);
}
