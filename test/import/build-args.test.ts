import { describe, expect, it } from 'vitest';
import { mergeBuildArgs, parseBuildArgs } from '../../src/import/build-args.js';
import { declaredArgs } from '../../src/import/dockerfile-args.js';

describe('--build-arg parsing (offline rebuild), as docker build takes it', () => {
  it('KEY=VALUE keeps everything after the first "=", KEY takes the environment, the last of a name counts', () => {
    expect(
      parseBuildArgs(['A=1=2', 'EMPTY=', 'FROM_ENV', 'MISSING', 'A=3'], { FROM_ENV: 'env value' }),
    ).toEqual([
      { name: 'EMPTY', source: 'option', value: '' },
      { name: 'FROM_ENV', source: 'environment', value: 'env value' },
      { name: 'MISSING', source: 'default' },
      { name: 'A', source: 'option', value: '3' },
    ]);
  });

  it.each([
    ['=value', ''],
    ['', ''],
    ['1BAD=x', '1BAD'],
    ['NPM-TOKEN=s3cr3t', 'NPM-TOKEN'],
    [' KEY=x', ' KEY'],
  ])('%j is EUSAGE naming the name, never the value', (spec, name) => {
    let caught: unknown;
    try {
      parseBuildArgs([spec], {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'EUSAGE', found: name });
    const message = (caught as Error).message;
    expect(message).toMatch(/^--build-arg /);
    if (name !== '') expect(message).toContain(JSON.stringify(name));
    expect(message).not.toMatch(/s3cr3t|=x/);
  });
});

describe('the build args of a rebuild: the recorded ones, given ones replacing theirs', () => {
  it('overrides a recorded arg, adds a new one, keeps the rest, and echoes only recorded values', () => {
    const { args, used } = mergeBuildArgs({ BASE: 'busybox', NONCE: 'n1' }, [
      { name: 'NONCE', source: 'option', value: 'n2' },
      { name: 'APP_VERSION', source: 'environment', value: '1.2.1' },
    ]);
    expect(args).toEqual({ BASE: 'busybox', NONCE: 'n2', APP_VERSION: '1.2.1' });
    expect(used).toEqual([
      { name: 'APP_VERSION', source: 'environment' },
      { name: 'BASE', source: 'recorded', value: 'busybox' },
      { name: 'NONCE', source: 'option' },
    ]);
  });

  it('a --build-arg KEY the environment lacks drops the recorded value (the Dockerfile default applies)', () => {
    const { args, used } = mergeBuildArgs({ BASE: 'busybox', NONCE: 'n1' }, [
      { name: 'NONCE', source: 'default' },
    ]);
    expect(args).toEqual({ BASE: 'busybox' });
    expect(used).toContainEqual({ name: 'NONCE', source: 'default' });
  });

  it('no recorded and no given args: none', () => {
    expect(mergeBuildArgs(undefined, [])).toEqual({ args: {}, used: [] });
  });
});

describe('declaredArgs: the ARG names of every stage', () => {
  it('finds global and stage ARGs, several on a line, continued lines, any case; proxies are predefined', () => {
    const names = declaredArgs(
      [
        'ARG BASE=busybox',
        'FROM $BASE AS deps',
        '# ARG COMMENTED',
        'arg lower=1 SECOND="two words"',
        'ARG FIRST \\',
        '    CONTINUED=1',
        'FROM scratch',
        'ARG LAST',
        'RUN echo $NOT_DECLARED',
      ].join('\n'),
    );
    for (const name of ['BASE', 'lower', 'SECOND', 'FIRST', 'CONTINUED', 'LAST', 'HTTP_PROXY', 'no_proxy']) {
      expect(names.has(name), name).toBe(true);
    }
    expect(names.has('NOT_DECLARED')).toBe(false);
    expect(names.has('COMMENTED')).toBe(false);
  });
});
