import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertSafeRelativePath, resolveInside, toPosix } from '../../src/fs/safe-path.js';

describe('assertSafeRelativePath', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['dir/sub/名字 file.txt', 'dir/sub/名字 file.txt'],
    ['./a', 'a'],
    ['././a/b', 'a/b'],
    ['a//b', 'a/b'],
    ['a/./b', 'a/b'],
    ['..a/b..', '..a/b..'],
  ])('accepts "%s" as "%s"', (name, want) => {
    expect(assertSafeRelativePath(name, 'm')).toBe(want);
  });

  it.each([
    ['', 'empty path'],
    ['/etc/passwd', 'absolute'],
    ['C:/windows', 'absolute'],
    ['\\\\server\\share', 'absolute'],
    ['..', '".."'],
    ['../x', '".."'],
    ['a/../../x', '".."'],
    ['a/..', '".."'],
    ['a\0b', 'NUL'],
    ['.', 'not a file path'],
    ['./', 'not a file path'],
  ])('refuses "%s" with EUNSAFE_PATH (%s)', (name, why) => {
    expect(() => assertSafeRelativePath(name, 'manifest:3')).toThrow(
      expect.objectContaining({ code: 'EUNSAFE_PATH', found: name, message: expect.stringContaining(why) }),
    );
  });
});

describe('resolveInside', () => {
  it('joins a safe path onto the root', () => {
    expect(resolveInside('/srv/bundle', 'a/b.txt', 'm')).toBe(path.resolve('/srv/bundle/a/b.txt'));
  });

  it('refuses a path that leaves the root', () => {
    expect(() => resolveInside('/srv/bundle', '../etc', 'm')).toThrow(
      expect.objectContaining({ code: 'EUNSAFE_PATH' }),
    );
  });
});

describe('toPosix', () => {
  it('joins platform segments with "/"', () => {
    expect(toPosix(['a', 'b', 'c'].join(path.sep))).toBe('a/b/c');
  });
});
