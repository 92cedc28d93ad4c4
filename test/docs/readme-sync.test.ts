import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = 'README.md';
const README_ZH = 'README.zh-CN.md';

/**
 * The command lines of a README, in order:
 * - every line of a fenced code block, without a leading `$ ` and without a trailing `# comment` (comments are
 *   prose, translated), skipping blank and comment-only lines: README's blocks hold only commands;
 * - the first cell of a table row when it is inline code naming a command (`offline ...`, `make ...`), each
 *   code span on its own: the command tables.
 */
function commandLines(markdown: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split(/\r?\n/)) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker) {
      fence = fence === undefined ? marker : fence === marker ? undefined : fence;
      continue;
    }
    if (fence) {
      const command = line
        .replace(/^\s*\$\s+/, '')
        .replace(/(^|\s)#.*$/, '')
        .trim();
      if (command !== '') out.push(command);
      continue;
    }
    const cell = /^\|\s*([^|]*?)\s*\|/.exec(line)?.[1] ?? '';
    for (const span of cell.matchAll(/`([^`]+)`/g)) {
      const code = span[1] ?? '';
      if (/^(offline|make|node|npx|npm|docker|docker-compose|sha256sum|sh|tar)\s/.test(code)) out.push(code);
    }
  }
  return out;
}

/** The `offline` invocations among command lines: the words after `offline` (env assignments skipped). */
function offlineInvocations(lines: readonly string[]): string[][] {
  return lines
    .map((line) => line.replace(/^([A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/, '').split(/\s+/))
    .filter((words) => words[0] === 'offline')
    .map((words) => words.slice(1));
}

/** Heading levels and, for numbered headings, their numbers: the section skeleton both languages share. */
function skeleton(markdown: string): string[] {
  let fenced = false;
  return markdown
    .split(/\r?\n/)
    .filter((line) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      return !fenced && /^#{1,6} /.test(line);
    })
    .map((line) => {
      const [, hashes = '', number = ''] = /^(#+) (\d+\.)?/.exec(line) ?? [];
      return `${hashes}${number ? ` ${number}` : ''}`;
    });
}

/** Subcommand names under "Commands:" in a commander help text, without commander's own "help". */
function commandsIn(help: string): string[] {
  const section = (help.split(/^Commands:$/m)[1] ?? '').split(/\n\s*\n/)[0] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1] ?? '').filter((name) => name !== 'help');
}

const read = (name: string) => readFile(path.join(root, name), 'utf8');

describe('README.md and README.zh-CN.md are kept in step', () => {
  it('list the same commands in the same order', async () => {
    const english = commandLines(await read(README));
    const chinese = commandLines(await read(README_ZH));
    expect(english.length).toBeGreaterThan(10);
    expect(english).toEqual(expect.arrayContaining(['make demo', 'make test']));
    expect(chinese).toEqual(english);
  });

  it('have the same sections and link to each other', async () => {
    const english = await read(README);
    const chinese = await read(README_ZH);
    expect(skeleton(chinese)).toEqual(skeleton(english));
    expect(english).toContain(`](${README_ZH})`);
    expect(chinese).toContain(`](${README})`);
  });

  it('name only offline subcommands the CLI has', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const names = commandsIn(top.stdout);
    const helps = await Promise.all(names.map((name) => runCli([name, '--help'])));
    const known = new Map(names.map((name, i) => [name, commandsIn(helps[i]?.stdout ?? '')]));
    expect([...known.keys()]).toEqual(expect.arrayContaining(['export', 'import', 'checksum', 'tiktoken']));
    const unknown: string[] = [];
    for (const file of [README, README_ZH]) {
      const invocations = offlineInvocations(commandLines(await read(file)));
      expect(invocations.length, file).toBeGreaterThan(5);
      for (const [command = '', sub = ''] of invocations) {
        const subs = known.get(command);
        if (!subs) unknown.push(`${file}: offline ${command}`);
        else if (subs.length > 0 && !subs.includes(sub)) unknown.push(`${file}: offline ${command} ${sub}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('the extraction sees a changed command, a dropped command and an unknown subcommand', () => {
    const doc = [
      '```sh',
      '$ offline export bundles/demo --out ./out   # a comment',
      '# a comment line',
      'make demo',
      '```',
      '| command | what |',
      '|---|---|',
      '| `offline frobnicate DIR` | x |',
      '| `make demo`, `make demo-clean` | y |',
    ].join('\n');
    const lines = commandLines(doc);
    expect(lines).toEqual([
      'offline export bundles/demo --out ./out',
      'make demo',
      'offline frobnicate DIR',
      'make demo',
      'make demo-clean',
    ]);
    expect(commandLines(doc.replace('--out ./out', '--out ./elsewhere'))).not.toEqual(lines);
    expect(commandLines(doc.replace('make demo\n', ''))).not.toEqual(lines);
    expect(offlineInvocations(lines).map((w) => w[0])).toEqual(['export', 'frobnicate']);
  });
});
