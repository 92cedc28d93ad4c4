import { readFile } from 'node:fs/promises';

/**
 * The variables of a compose-style .env file (KEY=VALUE lines; # comments and blank lines skipped; one pair of
 * surrounding quotes removed). A missing file gives none.
 */
export async function readEnvFile(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const value = match[2] as string;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    vars[match[1] as string] = quoted ? (quoted[2] as string) : value;
  }
  return vars;
}
