import { describe, expect, it } from 'vitest';
import { passSources, sourceFilter } from '../../src/import/pass-sources.js';

const DEPS_THEN_APP = `ARG BASE=busybox
FROM \${BASE} AS deps
WORKDIR /app
COPY requirements.txt constraints.txt ./
COPY --chown=1000:1000 ["vendor/wheels", "/wheels/"]
RUN pip install -r requirements.txt
FROM deps AS test
COPY tests/ ./tests/
FROM \${BASE}
COPY --from=deps /app /app
COPY . /app
`;

describe('passSources: what of the context the stages up to a target read', () => {
  it('the COPY and ADD sources of every stage up to the target, flags and the JSON form read, COPY --from skipped', () => {
    expect(passSources(DEPS_THEN_APP, 'deps')).toEqual({
      sources: ['constraints.txt', 'requirements.txt', 'vendor/wheels'],
    });
    expect(passSources(DEPS_THEN_APP, 'TEST')).toEqual({
      sources: ['constraints.txt', 'requirements.txt', 'tests', 'vendor/wheels'],
    });
  });

  it('the whole context when a stage it builds copies the context root', () => {
    expect(passSources(`${DEPS_THEN_APP}FROM deps AS lint\n`, 'lint')).toEqual({
      whole: 'the source . (COPY . /app)',
    });
  });

  it('sources as the builder resolves them: no leading ./ or /, .. kept inside the context, globs kept', () => {
    const text = 'FROM x AS a\nCOPY ./src/ /s\nADD /etc/../conf/app.ini lib/*.so lib/v?/x /d/\n';
    expect(passSources(text, 'a')).toEqual({ sources: ['conf/app.ini', 'lib/*.so', 'lib/v?/x', 'src'] });
  });

  it('a glob at the top of the context, as in COPY package*.json ./ before npm ci', () => {
    const text = 'FROM node AS deps\nCOPY package*.json .npmrc ./\nRUN npm ci\nFROM deps\nCOPY . .\n';
    expect(passSources(text, 'deps')).toEqual({ sources: ['.npmrc', 'package*.json'] });
    const keep = sourceFilter(['.npmrc', 'package*.json']);
    expect(keep('package.json', false)).toBe(true);
    expect(keep('package-lock.json', false)).toBe(true);
    expect(keep('src', true)).toBe(false);
    expect(keep('node_modules', true)).toBe(false);
  });

  it('no sources for an ADD of a URL or a git repository, nor for a stage with no COPY', () => {
    const text = 'FROM x AS a\nADD https://example.com/a.tgz /a\nADD git@github.com:o/r.git /r\nRUN true\n';
    expect(passSources(text, 'a')).toEqual({ sources: [] });
  });

  it.each([
    ['COPY * /app/', 'the source *'],
    ['COPY $DIR/a /a', 'the source $DIR/a'],
    ['COPY src/[ab].txt /x', 'the source src/[ab].txt'],
    ['COPY ../.. /x', 'the source ../..'],
    ['COPY <<EOF /x', 'a heredoc'],
    ['COPY ["a", /x', 'a JSON form that does not parse'],
    ['ONBUILD COPY . /x', 'ONBUILD in the Dockerfile'],
  ])('the whole context for %s', (line, why) => {
    const result = passSources(`FROM x AS a\n${line}\n`, 'a');
    expect(result).toEqual({ whole: expect.stringContaining(why) });
  });

  it('sources under an escape directive, its continued lines joined; a source with a backtick is the whole context', () => {
    const text = '# escape=`\nFROM x AS a\nCOPY a.txt `\n  # note\n  b.txt /a/\n';
    expect(passSources(text, 'a')).toEqual({ sources: ['a.txt', 'b.txt'] });
    expect(passSources('# escape=`\nFROM x AS a\nCOPY a` b.txt /a/\n', 'a')).toEqual({
      whole: 'the source a` (COPY a` b.txt /a/)',
    });
    // The same words after an instruction are only a comment: a backslash continues the line.
    expect(passSources('FROM x AS a\n# escape=`\nCOPY a.txt \\\n  b.txt /a\n', 'a')).toEqual({
      sources: ['a.txt', 'b.txt'],
    });
  });

  it('a JSON form keeps its spaces', () => {
    expect(passSources('FROM x AS a\nCOPY --chown=1:1 ["my  notes.txt", "/d/"]\n', 'a')).toEqual({
      sources: ['my  notes.txt'],
    });
  });

  it('continued lines are one instruction', () => {
    expect(passSources('FROM x AS a\nCOPY a.txt \\\n  b.txt /d/\n', 'a')).toEqual({
      sources: ['a.txt', 'b.txt'],
    });
  });
});

describe('sourceFilter: the context entries a pass sends for its sources', () => {
  const keep = sourceFilter(['requirements.txt', 'vendor/wheels', 'lib/*.so', 'lib/v?/x']);

  it('what a source names and everything under it', () => {
    expect(keep('requirements.txt', false)).toBe(true);
    expect(keep('vendor/wheels', true)).toBe(true);
    expect(keep('vendor/wheels/a.whl', false)).toBe(true);
    expect(keep('vendor/wheels/sub/b.whl', false)).toBe(true);
  });

  it('the folders on the way to a source, not the other files in them', () => {
    expect(keep('vendor', true)).toBe(true);
    expect(keep('vendor/README', false)).toBe(false);
    expect(keep('vendor/other', true)).toBe(false);
    // A file where a folder on the way should be is no match.
    expect(keep('vendor', false)).toBe(false);
  });

  it('globs match one segment each, as the builder matches them', () => {
    expect(keep('lib/a.so', false)).toBe(true);
    expect(keep('lib/a.so.1', false)).toBe(false);
    expect(keep('lib/sub/a.so', false)).toBe(false);
    expect(keep('lib/v1', true)).toBe(true);
    expect(keep('lib/v1/x', false)).toBe(true);
    expect(keep('lib/v10', true)).toBe(false);
    expect(keep('lib/v1/y', false)).toBe(false);
  });

  it('nothing else', () => {
    expect(keep('src', true)).toBe(false);
    expect(keep('requirements.txt.bak', false)).toBe(false);
    expect(keep('model.bin', false)).toBe(false);
  });
});
