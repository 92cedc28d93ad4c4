import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

/** The subcommand names listed under "Commands:" in a help text, without commander's own "help". */
function commandsIn(help: string): string[] {
  const section = (help.split(/^Commands:$/m)[1] ?? '').split(/\n\s*\n/)[0] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1] ?? '').filter((name) => name !== 'help');
}

/** Every command without subcommands ("checksum create", "export"...), found through the CLI's own --help. */
async function leafCommands(): Promise<string[]> {
  const leaves: string[] = [];
  const visit = async (path: string[]): Promise<void> => {
    const subcommands = commandsIn((await runCli([...path, '--help'])).stdout);
    if (path.length > 0 && subcommands.length === 0) leaves.push(path.join(' '));
    await Promise.all(subcommands.map((sub) => visit([...path, sub])));
  };
  await visit([]);
  return leaves.sort();
}

/**
 * Runs `command ...options`; commander checks required options before unknown ones, so each required option it
 * asks for is given a placeholder value and the command run again.
 */
async function withRequiredOptions(
  command: string[],
  options: string[],
  given: string[] = [],
): Promise<CliResult> {
  const result = await runCli([...command, ...given, ...options]);
  const message = (result.json as { error?: { message?: string } } | undefined)?.error?.message ?? '';
  const missing = /^required option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
  return missing && !given.includes(missing)
    ? withRequiredOptions(command, options, [...given, missing, 'placeholder'])
    : result;
}

describe('offline usage errors (CLI)', () => {
  it.each([
    ['an unknown option', ['checksum', 'create', '--bogus', '.'], "unknown option '--bogus'"],
    ['a missing argument', ['checksum', 'verify'], "missing required argument 'dir'"],
    ['an unknown command', ['frobnicate'], "unknown command 'frobnicate'"],
    ['a missing folder', ['checksum', 'create', '/nonexistent/offline-test'], 'no such folder'],
  ])('exit 2 on %s, with one clear error line on stderr', async (_what, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error: '));
    expect(errors).toEqual([expect.stringContaining(message)]);
    expect(result.stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(2);
  });

  it.each([
    ['an unknown option', ['checksum', 'create', '--bogus', '.', '--json']],
    ['a missing argument', ['--json', 'checksum', 'verify']],
    ['a missing folder', ['--json', 'checksum', 'verify', '/nonexistent/offline-test']],
  ])('with --json, %s gives exactly one JSON object on stdout with EUSAGE', async (_what, args) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.json).toMatchObject({ ok: false, error: { code: 'EUSAGE', message: expect.any(String) } });
    expect(result.stdout.trim().startsWith('{')).toBe(true);
  });
});

describe('offline export: tiktoken encodings checked before any work (CLI)', () => {
  it.each([
    ['--encodings cl100k_base,cl100k', ['--encodings', 'cl100k_base,cl100k'], /--encodings: .*"cl100k"/],
    ['--encodings ""', ['--encodings', ' , '], /--encodings names no encoding/],
    ['a bundle.yaml naming cl100k', [], /"tiktoken\.encodings\[1\]" is not a tiktoken encoding/],
  ])('%s: EUSAGE, exit 2, before the engine is reached', async (_what, flags, message) => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'docker-compose.yml'), 'services:\n  web:\n    image: busybox\n');
    await writeFile(
      path.join(dir, 'bundle.yaml'),
      'name: typo\nversion: "1"\ntiktoken:\n  encodings: [o200k_base, cl100k]\n',
    );
    const target = flags.length > 0 ? ['-f', path.join(dir, 'docker-compose.yml'), '--name', 'typo'] : [dir];
    // No engine answers there: reaching it would give EDOCKER_UNREACHABLE (exit 4), not the usage error.
    const result = await runCli(['export', ...target, ...flags, '--out', dir, '--json'], {
      env: { DOCKER_HOST: `unix://${path.join(dir, 'no-engine.sock')}` },
    });
    expect(result.code).toBe(2);
    expect(result.json).toMatchObject({
      ok: false,
      error: { code: 'EUSAGE', message: expect.stringMatching(message) },
    });
  });
});

describe('offline --help (CLI)', () => {
  it('offline --help lists the commands and the exit codes (exit 0)', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: offline /);
    expect(result.stdout).toContain('Exit codes: 0 ok, 1 failure, 2 usage, 3 integrity problem, 4 Docker');
    expect(commandsIn(result.stdout)).toEqual(expect.arrayContaining(['checksum', 'export', 'import']));
  });

  it('--help works for every command and subcommand', async () => {
    const top = commandsIn((await runCli(['--help'])).stdout);
    const seen: string[] = [];
    const visit = async (path: string[]): Promise<void> => {
      const result = await runCli([...path, '--help']);
      expect(result, path.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(new RegExp(`^Usage: offline ${path.join(' ')} `));
      expect(result.stdout).toContain('--help');
      seen.push(path.join(' '));
      await Promise.all(commandsIn(result.stdout).map((sub) => visit([...path, sub])));
    };
    await Promise.all(top.map((name) => visit([name])));
    expect(seen).toEqual(expect.arrayContaining(['checksum', 'checksum create', 'checksum verify']));
    expect(seen.length).toBeGreaterThanOrEqual(top.length + 2);
  });

  it('--version prints the version (exit 0)', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--json is accepted by every leaf command (no "unknown option")', async () => {
    const leaves = await leafCommands();
    expect(leaves).toEqual(
      expect.arrayContaining([
        'checksum create',
        'checksum verify',
        'export',
        'import',
        'push',
        'tiktoken fetch',
      ]),
    );
    // An unknown option after --json: commander names the first option it does not know, before any action runs
    // (so nothing needs Docker or a bundle); it names --not-an-option only when --json was known.
    await Promise.all(
      leaves.map(async (leaf) => {
        const result = await withRequiredOptions(leaf.split(' '), ['--json', '--not-an-option']);
        expect(result.code, leaf).toBe(2);
        expect(result.json, leaf).toMatchObject({
          ok: false,
          error: { code: 'EUSAGE', message: expect.stringContaining("unknown option '--not-an-option'") },
        });
      }),
    );
  }, 300_000);
});
