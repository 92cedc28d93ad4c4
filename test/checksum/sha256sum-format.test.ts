import { describe, expect, it } from 'vitest';
import { formatChecksums, parseChecksums } from '../../src/checksum/sha256sum-format.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = '0123456789abcdef'.repeat(4);

describe('formatChecksums', () => {
  it('writes "<hex>  <path>" lines sorted by path bytes, each ending in a newline', () => {
    const text = formatChecksums([
      { path: 'b.txt', sha256: B },
      { path: 'a/z.txt', sha256: A },
      { path: 'B.txt', sha256: C },
    ]);
    expect(text).toBe(`${C}  B.txt\n${A}  a/z.txt\n${B}  b.txt\n`);
  });

  it('keeps spaces and Chinese characters as they are (UTF-8, no escaping)', () => {
    expect(formatChecksums([{ path: '数据/my file.txt', sha256: A }])).toBe(`${A}  数据/my file.txt\n`);
  });

  it('escapes backslash and newline the way GNU sha256sum does, marking the line with a leading "\\"', () => {
    expect(formatChecksums([{ path: 'a\\b\nc', sha256: A }])).toBe(`\\${A}  a\\\\b\\nc\n`);
  });

  it('writes nothing for no entries', () => {
    expect(formatChecksums([])).toBe('');
  });

  it('round-trips through parseChecksums', () => {
    const entries = [
      { path: 'a\\b\nc', sha256: A },
      { path: 'dir/名字 with space.bin', sha256: B },
      { path: 'z', sha256: C },
    ];
    const parsed = parseChecksums(formatChecksums(entries), 'list');
    expect(parsed.problems).toEqual([]);
    expect(parsed.entries).toEqual(
      [...entries].sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path))),
    );
  });
});

describe('parseChecksums', () => {
  it('reads text-mode and binary-mode lines and lower-cases the hash', () => {
    const parsed = parseChecksums(`${A.toUpperCase()}  one.txt\n${B} *two.bin\n`, 'list');
    expect(parsed).toEqual({
      entries: [
        { path: 'one.txt', sha256: A },
        { path: 'two.bin', sha256: B },
      ],
      problems: [],
      notes: [],
    });
  });

  it('reads the BSD tag form', () => {
    expect(parseChecksums(`SHA256 (dir/x y.txt) = ${A}\n`, 'list').entries).toEqual([
      { path: 'dir/x y.txt', sha256: A },
    ]);
  });

  it('accepts a last line without a newline and skips blank and comment lines', () => {
    const parsed = parseChecksums(`# made by hand\n\n${A}  a\n${B}  b`, 'list');
    expect(parsed.entries.map((e) => e.path)).toEqual(['a', 'b']);
    expect(parsed.problems).toEqual([]);
  });

  it('normalises a "./" prefix', () => {
    expect(parseChecksums(`${A}  ./sub/file\n`, 'list').entries).toEqual([{ path: 'sub/file', sha256: A }]);
  });

  it('reads CRLF line ends as LF and says so in a note', () => {
    const parsed = parseChecksums(`${A}  a.txt\r\n${B}  b.txt\r\n`, 'list');
    expect(parsed.entries).toEqual([
      { path: 'a.txt', sha256: A },
      { path: 'b.txt', sha256: B },
    ]);
    expect(parsed.problems).toEqual([]);
    expect(parsed.notes).toEqual([expect.stringContaining('CRLF')]);
  });

  it('ignores a byte-order mark and says so in a note', () => {
    const parsed = parseChecksums(`\uFEFF${A}  a.txt\n`, 'list');
    expect(parsed.entries).toEqual([{ path: 'a.txt', sha256: A }]);
    expect(parsed.problems).toEqual([]);
    expect(parsed.notes).toEqual([expect.stringContaining('byte-order mark')]);
  });

  it('refuses an absolute path with EUNSAFE_PATH naming the line', () => {
    const parsed = parseChecksums(`${A}  ok\n${B}  /etc/passwd\n`, 'list');
    expect(parsed.entries).toEqual([{ path: 'ok', sha256: A }]);
    expect(parsed.problems).toMatchObject([
      { code: 'EUNSAFE_PATH', found: '/etc/passwd', message: expect.stringContaining('list:2') },
    ]);
  });

  it.each(['../escape', 'a/../../escape', 'a/..', '..'])('refuses "%s" with EUNSAFE_PATH', (name) => {
    const parsed = parseChecksums(`${A}  ${name}\n`, 'list');
    expect(parsed.entries).toEqual([]);
    expect(parsed.problems).toMatchObject([{ code: 'EUNSAFE_PATH', found: name }]);
  });

  it('refuses a duplicate entry with EMANIFEST naming both lines, keeping the first', () => {
    const parsed = parseChecksums(`${A}  same\n${B}  other\n${C}  ./same\n`, 'list');
    expect(parsed.entries).toEqual([
      { path: 'same', sha256: A },
      { path: 'other', sha256: B },
    ]);
    expect(parsed.problems).toMatchObject([
      { code: 'EMANIFEST', message: expect.stringMatching(/list:3: .*line 1/) },
    ]);
  });

  it.each([
    ['non-hex digits', `${'g'.repeat(64)}  f`],
    ['too short', `${'a'.repeat(63)}  f`],
    ['too long', `${'a'.repeat(65)}  f`],
    ['an md5', `${'a'.repeat(32)}  f`],
  ])('refuses a hash that is %s with EMANIFEST', (_why, line) => {
    const parsed = parseChecksums(`${A}  good\n${line}\n`, 'list');
    expect(parsed.entries).toEqual([{ path: 'good', sha256: A }]);
    expect(parsed.problems).toMatchObject([
      { code: 'EMANIFEST', message: expect.stringContaining('list:2:') },
    ]);
  });

  it.each([
    ['no separator', A],
    ['one space only', `${A} f`],
    ['a tab', `${A}\tf`],
    ['free text', 'hello world'],
  ])('refuses a malformed line (%s) with EMANIFEST and its line number', (_why, line) => {
    const parsed = parseChecksums(`${A}  one\n${B}  two\n${line}\n`, 'list');
    expect(parsed.entries).toHaveLength(2);
    expect(parsed.problems).toMatchObject([
      { code: 'EMANIFEST', message: expect.stringContaining('list:3:') },
    ]);
  });

  it('reports every bad line at once, each with its own line number', () => {
    const parsed = parseChecksums(
      ['junk', `${A}  /abs`, `${B}  fine`, `xyz  f`, `${B}  fine`].join('\n'),
      'list',
    );
    expect(parsed.entries).toEqual([{ path: 'fine', sha256: B }]);
    expect(parsed.problems.map((p) => [p.code, /list:(\d+)/.exec(p.message)?.[1]])).toEqual([
      ['EMANIFEST', '1'],
      ['EUNSAFE_PATH', '2'],
      ['EMANIFEST', '4'],
      ['EMANIFEST', '5'],
    ]);
  });

  it('gives nothing and no problem for an empty list', () => {
    expect(parseChecksums('', 'list')).toEqual({ entries: [], problems: [], notes: [] });
  });
});
