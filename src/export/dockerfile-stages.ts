/** What a Dockerfile's FROM lines say: its stages and the external images it starts from. */
export interface DockerfileStage {
  /** The stage's name (AS name), lower-cased as the builder does; undefined for an unnamed stage. */
  name?: string;
  /** The FROM image after ARG substitution, or the earlier stage it builds on. */
  from: string;
  /** true when `from` names an earlier stage rather than an image. */
  fromStage: boolean;
  /** The stage's lines after its FROM, continued lines joined, comments left out. */
  instructions: string[];
}

export interface DockerfileInfo {
  stages: DockerfileStage[];
  /** External images the build needs: FROM bases and COPY --from images, not stages and not scratch. */
  bases: string[];
  /** Every name an ARG line declares, before the first FROM or in any stage. */
  args: string[];
}

/**
 * The escape character of a Dockerfile: a backtick when its parser directives (the `# name=value` lines of a
 * known name at its very top: a blank line, an instruction, any other comment or an unknown directive ends
 * them) say `escape=``, else a backslash.
 */
function escapeCharacter(lines: readonly string[]): string {
  for (const line of lines) {
    const directive = /^#\s*(syntax|escape|check)\s*=\s*(\S*)\s*$/i.exec(line.trim());
    if (!directive) break;
    if (directive[1]?.toLowerCase() === 'escape') return directive[2] === '`' ? '`' : '\\';
  }
  return '\\';
}

/**
 * Joins continued lines (ending in the escape character) and drops comments and blank lines, inside a
 * continued instruction too, as the builder does.
 */
function logicalLines(text: string): string[] {
  const raw = text.split(/\r?\n/);
  const continuation = escapeCharacter(raw);
  const lines: string[] = [];
  let current = '';
  for (const line of raw) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (trimmed.endsWith(continuation)) {
      current += `${trimmed.slice(0, -1)} `;
      continue;
    }
    lines.push((current + trimmed).trim());
    current = '';
  }
  if (current.trim() !== '') lines.push(current.trim());
  return lines;
}

function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
      const value = vars.get(braced ?? bare ?? '');
      return value !== undefined && value !== '' ? value : (fallback ?? '');
    },
  );
}

function unquote(value: string): string {
  return value.replace(/^(["'])(.*)\1$/, '$2');
}

/**
 * Parses FROM lines: global ARGs (before the first FROM) with their defaults, overridden by build args,
 * are substituted; `AS name` stages are recognised so a FROM or COPY --from naming a stage is not a base.
 */
export function parseDockerfile(
  text: string,
  buildArgs: Readonly<Record<string, string>> = {},
): DockerfileInfo {
  const vars = new Map<string, string>();
  const stages: DockerfileStage[] = [];
  const stageNames = new Set<string>();
  const bases = new Set<string>();
  const args = new Set<string>();
  const addBase = (image: string) => {
    if (image !== '' && image.toLowerCase() !== 'scratch') bases.add(image);
  };
  for (const line of logicalLines(text)) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = keyword.toUpperCase();
    if (instruction === 'ARG') {
      for (const declaration of rest) {
        const eq = declaration.indexOf('=');
        const name = eq < 0 ? declaration : declaration.slice(0, eq);
        // A word of a quoted value with spaces (`A="two words"`) is no declaration.
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) args.add(name);
        // Only the global ARGs (before the first FROM) are substituted into FROM lines.
        if (stages.length > 0) continue;
        const fallback = eq < 0 ? undefined : unquote(declaration.slice(eq + 1));
        const value = buildArgs[name] ?? fallback;
        if (value !== undefined) vars.set(name, substitute(value, vars));
      }
    } else if (instruction === 'FROM') {
      const words = rest.filter((w) => !w.startsWith('--'));
      const image = substitute(words[0] ?? '', vars);
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      const name = asIndex >= 0 ? words[asIndex + 1]?.toLowerCase() : undefined;
      const fromStage = stageNames.has(image.toLowerCase());
      if (!fromStage) addBase(image);
      stages.push({ ...(name !== undefined && { name }), from: image, fromStage, instructions: [] });
      if (name) stageNames.add(name);
      continue;
    }
    stages.at(-1)?.instructions.push(line);
    if (instruction === 'COPY') {
      const from = rest.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      if (from !== undefined && !/^\d+$/.test(from) && !stageNames.has(from.toLowerCase())) {
        addBase(substitute(from, vars));
      }
    }
  }
  return { stages, bases: [...bases].sort(), args: [...args] };
}

/**
 * The stages a classic build of the Dockerfile runs, in order: every one up to `target` (all of them without
 * one), used or not; none when no stage has that name (the build fails).
 */
export function stagesBuilt(stages: readonly DockerfileStage[], target?: string): DockerfileStage[] {
  if (target === undefined) return [...stages];
  return stages.slice(0, stages.findIndex((s) => s.name === target.toLowerCase()) + 1);
}
