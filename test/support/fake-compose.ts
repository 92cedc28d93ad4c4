import { execFileSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from './temp-dir.js';

export interface FakeCompose {
  /** The folder holding the fakes, to put first on PATH. */
  bin: string;
  /** The argument lists docker-compose was run with, in order (one line each, words joined by spaces). */
  calls(): Promise<string[]>;
}

/**
 * A `docker-compose` that prints `version` for `version --short`, records every argument list, and exits 0;
 * beside it a `docker` with no compose plugin (`docker compose ...` fails as the CLI does without it; anything
 * else runs the real docker), so the fake is chosen on hosts that have the plugin too. Removed after the test.
 */
export async function fakeCompose(version: string): Promise<FakeCompose> {
  const bin = await tempDir('offline-fake-compose-');
  const log = path.join(bin, 'calls.log');
  const docker = execFileSync('/bin/sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
  const script = (lines: string[]) => `#!/bin/sh\n${lines.join('\n')}\n`;
  await writeFile(
    path.join(bin, 'docker-compose'),
    script([
      `printf '%s\\n' "$*" >> '${log}'`,
      `if [ "$1" = version ] && [ "$2" = --short ]; then echo '${version}'; fi`,
      'exit 0',
    ]),
  );
  await writeFile(
    path.join(bin, 'docker'),
    script([
      `if [ "$1" = compose ]; then echo "docker: unknown command: docker compose" >&2; exit 1; fi`,
      `exec '${docker}' "$@"`,
    ]),
  );
  await chmod(path.join(bin, 'docker-compose'), 0o755);
  await chmod(path.join(bin, 'docker'), 0o755);
  return {
    bin,
    calls: async () =>
      (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((line) => line !== ''),
  };
}
