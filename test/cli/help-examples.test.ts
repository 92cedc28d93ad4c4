import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

/** The subcommand names listed under "Commands:" in a help text, without commander's own "help". */
function commandsIn(help: string): string[] {
  const section = (help.split(/^Commands:$/m)[1] ?? '').split(/\n\s*\n/)[0] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1] ?? '').filter((name) => name !== 'help');
}

/** The lines of the "Example:" / "Examples:" block at the end of a help text. */
function examplesIn(help: string): string[] {
  const block = help.split(/^Examples?:$/m)[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

describe('every command and subcommand shows an example in its --help (CLI)', () => {
  it('offline --help, each command and each subcommand', async () => {
    const helps = new Map<string, string>();
    const visit = async (path: string[]): Promise<void> => {
      const result = await runCli([...path, '--help']);
      expect(result.code, path.join(' ')).toBe(0);
      helps.set(path.join(' '), result.stdout);
      await Promise.all(commandsIn(result.stdout).map((name) => visit([...path, name])));
    };
    await visit([]);
    // the commands the README documents are all there, and were all visited
    expect([...helps.keys()]).toEqual(
      expect.arrayContaining([
        '',
        'checksum',
        'checksum create',
        'checksum verify',
        'export',
        'import',
        'verify',
        'inspect',
        'tiktoken',
        'tiktoken fetch',
        'tiktoken verify',
      ]),
    );
    const missing: string[] = [];
    for (const [command, help] of helps) {
      const examples = examplesIn(help);
      // an example is a runnable line of this very command (or of a subcommand of it)
      const own = examples.filter((line) =>
        line.replace(/^([A-Z_]+=\S+\s+)*/, '').startsWith(`offline ${command}`.trim()),
      );
      if (!/^Examples?:$/m.test(help) || own.length === 0) missing.push(command || '(offline)');
    }
    expect(missing).toEqual([]);
  });
});
