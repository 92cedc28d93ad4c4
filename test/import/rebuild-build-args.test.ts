import { execFileSync } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { type ImportedRebuildStack, importedRebuildStack } from '../support/rebuild-stack.js';

// `offline rebuild --build-arg`: the air-gapped developer changes a build arg as with `docker build
// --build-arg`; the given args replace the recorded ones for that build, the others stay as recorded.

interface Rebuilt {
  id: string;
  steps: number;
  cached: number;
  stagePasses: { target: string; steps: number; cached: number }[];
  buildArgs: { name: string; source: string; value?: string }[];
}

describe('offline rebuild --build-arg', () => {
  let stack: ImportedRebuildStack;
  const labelled = (value: string) =>
    execFileSync('docker', ['images', '-a', '-q', '--filter', `label=offline.test.rebuild=${value}`], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);

  beforeAll(async () => {
    stack = await importedRebuildStack();
  }, 300_000);

  afterAll(async () => {
    // The images the NONCE override built carry its label, not the stack's; remove them too.
    if (stack) {
      for (const id of new Set(labelled(`${stack.nonce}-v2`))) {
        try {
          execFileSync('docker', ['rmi', '-f', id], { stdio: 'ignore' });
        } catch {
          // gone with its child already
        }
      }
    }
    await stack?.cleanup();
  });

  const rebuild = (args: string[], env?: NodeJS.ProcessEnv) =>
    runCli(['rebuild', 'app', '--target', stack.target, ...args], env ? { env } : {});
  const cat = async (file: string) => (await stack.engine.runContainer(stack.image, ['cat', file])).output;

  it('a malformed --build-arg is EUSAGE naming it (never its value), before any build or engine call', async () => {
    const before = (await stack.engine.inspectImage(stack.image))?.id;
    for (const [spec, name] of [
      ['1BAD=s3cr3t', '1BAD'],
      ['NPM-TOKEN=s3cr3t', 'NPM-TOKEN'],
      ['=s3cr3t', ''],
    ] as const) {
      // An engine that is not there: the usage error comes first.
      const result = await runCli(
        ['rebuild', 'app', '--target', stack.target, '--build-arg', 'GOOD=1', '--build-arg', spec, '--json'],
        { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } },
      );
      expect(result.code, result.stderr).toBe(2);
      const error = (result.json as { error: { code: string; message: string; found: string } }).error;
      expect(error).toMatchObject({ code: 'EUSAGE', found: name });
      expect(error.message).toContain(name === '' ? '--build-arg =...: empty build arg name' : `"${name}"`);
      expect(result.stdout + result.stderr).not.toContain('s3cr3t');
    }
    expect((await stack.engine.inspectImage(stack.image))?.id).toBe(before);
  });

  it('an arg no stage declares builds with the warning docker gives ("not consumed")', async () => {
    const result = await rebuild(['--build-arg', 'NOT_DECLARED_ANYWHERE=1', '--json']);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stderr).toContain(
      `warning: --build-arg NOT_DECLARED_ANYWHERE: not consumed, ${path.join(stack.target, 'app/Dockerfile')} declares no ARG NOT_DECLARED_ANYWHERE`,
    );
    // The recorded args stay: every step came from the cache, the deps stage's random bytes too.
    const rebuilt = (result.json as { result: Rebuilt }).result;
    expect(rebuilt).toMatchObject({ steps: 12, cached: 9 });
    expect(await stack.randomIn(stack.image)).toBe(stack.originalRandom);
    expect(await stack.finalRandomIn(stack.image)).toBe(stack.originalFinalRandom);
  });

  it('a changed arg shows in the image; the steps before its first use come from the cache', async () => {
    // The developer's change on the air-gapped host: a version arg used by a last step.
    await appendFile(
      path.join(stack.target, 'app/Dockerfile'),
      'ARG APP_VERSION=dev\nRUN echo "version $APP_VERSION" > /app-version\n',
    );
    const first = await rebuild(['--build-arg', 'APP_VERSION=1.2.1', '--json']);
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    expect(await cat('/app-version')).toBe('version 1.2.1\n');
    expect(await stack.randomIn(stack.image)).toBe(stack.originalRandom);

    // The same Dockerfile, another value (holding "=", from the environment).
    const second = await rebuild(['--build-arg', 'APP_VERSION', '--json'], { APP_VERSION: '1.2.2=rc1' });
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    const rebuilt = (second.json as { result: Rebuilt }).result;
    expect((await stack.engine.inspectImage(stack.image))?.id).toBe(rebuilt.id);
    expect(await cat('/app-version')).toBe('version 1.2.2=rc1\n');
    expect(await stack.randomIn(stack.image)).toBe(stack.originalRandom);
    // Every step before the appended ARG APP_VERSION comes from the cache whatever the value (the RUNs of both
    // stages: the random bytes above); of the 14 steps, ARG BASE and the two FROMs never do. The first value
    // ran the two appended steps; the second finds the ARG APP_VERSION line the first built, and runs the RUN
    // that uses the arg.
    expect((first.json as { result: Rebuilt }).result).toMatchObject({ steps: 14, cacheable: 11, cached: 9 });
    expect(rebuilt, JSON.stringify(rebuilt)).toMatchObject({ steps: 14, cacheable: 11, cached: 10 });
    expect(await stack.finalRandomIn(stack.image)).toBe(stack.originalFinalRandom);
    expect(rebuilt.buildArgs).toEqual([
      { name: 'APP_VERSION', source: 'environment' },
      { name: 'BASE', source: 'recorded', value: stack.baseImage },
      { name: 'NONCE', source: 'recorded', value: stack.nonce },
    ]);
    // A given value is not echoed (it may be a secret from the environment); the summary names the args only.
    expect(second.stdout).not.toContain('1.2.2=rc1');
    const summary = await rebuild(['--build-arg', 'APP_VERSION'], { APP_VERSION: '1.2.2=rc1' });
    expect(summary.code, summary.stderr.slice(-2000)).toBe(0);
    expect(summary.stdout).toContain('build args given: APP_VERSION (from the environment)');
    expect(summary.stdout).toContain('build args as recorded in the bundle: BASE, NONCE');
    expect(summary.stdout).not.toContain('1.2.2=rc1');
    expect(summary.stdout).not.toContain(stack.baseImage);
  });

  it('a recorded arg given anew replaces the recorded value; the steps from its first use on run again', async () => {
    const result = await rebuild(['--build-arg', `NONCE=${stack.nonce}-v2`, '--json']);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    // Only the two ARG NONCE lines come before its first use (the LABEL right after each). The deps stage,
    // changed, ran in its own pass first; the service build found its steps there, but they count as run.
    expect((result.json as { result: Rebuilt }).result).toMatchObject({
      steps: 14,
      cached: 2,
      stagePasses: [{ target: 'deps', steps: 5, cached: 1 }],
    });
    expect((await stack.engine.inspectImage(stack.image))?.labels['offline.test.rebuild']).toBe(
      `${stack.nonce}-v2`,
    );
    // The RUNs follow the changed LABELs, so they ran again.
    expect(await stack.randomIn(stack.image)).not.toBe(stack.originalRandom);
    expect(await stack.finalRandomIn(stack.image)).not.toBe(stack.originalFinalRandom);
    expect((result.json as { result: Rebuilt }).result.buildArgs).toContainEqual({
      name: 'NONCE',
      source: 'option',
    });
  });
});
