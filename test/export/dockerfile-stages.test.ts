import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/export/dockerfile-stages.js';

describe('parseDockerfile', () => {
  it('finds stages and external bases, with global ARGs substituted and build args overriding them', () => {
    const text = [
      '# syntax comment',
      'ARG REGISTRY=docker.io',
      'ARG NODE=20',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JS template
      'FROM --platform=linux/amd64 ${REGISTRY}/library/node:${NODE} AS Deps',
      'RUN npm ci \\',
      '  --omit=dev',
      'FROM deps AS build',
      'COPY --from=tools:1 /bin/tool /bin/tool',
      'COPY --from=0 /a /a',
      'FROM scratch',
      'COPY --from=build /app /app',
      'COPY --from=$REGISTRY/x:1 /x /x',
    ].join('\n');
    const info = parseDockerfile(text, { NODE: '22' });
    expect(info.stages).toEqual([
      {
        name: 'deps',
        from: 'docker.io/library/node:22',
        fromStage: false,
        instructions: ['RUN npm ci  --omit=dev'],
      },
      {
        name: 'build',
        from: 'deps',
        fromStage: true,
        instructions: ['COPY --from=tools:1 /bin/tool /bin/tool', 'COPY --from=0 /a /a'],
      },
      {
        from: 'scratch',
        fromStage: false,
        instructions: ['COPY --from=build /app /app', 'COPY --from=$REGISTRY/x:1 /x /x'],
      },
    ]);
    expect(info.bases).toEqual(['docker.io/library/node:22', 'docker.io/x:1', 'tools:1']);
    expect(info.args).toEqual(['REGISTRY', 'NODE']);
  });

  it('lists the ARG names of every stage; a stage ARG is not substituted into a later FROM', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JS template
    const info = parseDockerfile('FROM busybox AS a\nARG TAG=2 MODE="x y"\nFROM busybox:${TAG:-1}\n');
    expect(info.args).toEqual(['TAG', 'MODE']);
    expect(info.bases).toEqual(['busybox', 'busybox:1']);
  });

  it('joins lines by the escape character its parser directive sets, and drops comments inside them', () => {
    const backtick = [
      '# syntax=docker/dockerfile:1',
      '# Escape = `',
      'FROM busybox AS build',
      'COPY a.txt `',
      '  # a comment inside the instruction',
      '',
      '  C:\\app\\',
      'RUN echo \\',
    ].join('\n');
    expect(parseDockerfile(backtick).stages[0]?.instructions).toEqual([
      'COPY a.txt  C:\\app\\',
      'RUN echo \\',
    ]);
    // A directive is only one at the top: after a blank line, another comment or an instruction it is a comment.
    for (const head of [
      '\n# escape=`',
      '# note\n# escape=`',
      '# unknown=1\n# escape=`',
      'FROM busybox\n# escape=`',
    ]) {
      const info = parseDockerfile(
        [head, 'FROM busybox AS b', 'RUN a \\', '  # c', '  b', 'RUN x `'].join('\n'),
      );
      expect(info.stages.at(-1)?.instructions).toEqual(['RUN a  b', 'RUN x `']);
    }
  });

  it('uses a :- default and leaves an ARG without default empty', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JS template
    expect(parseDockerfile('ARG TAG\nFROM busybox:${TAG:-1.36}\n').bases).toEqual(['busybox:1.36']);
  });
});
