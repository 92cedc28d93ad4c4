import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type DockerStreamEvent, followJsonStream } from '../../src/docker/json-stream.js';

const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('followJsonStream', () => {
  it('reads newline-delimited objects split at any byte, calling onEvent for each', async () => {
    const seen: DockerStreamEvent[] = [];
    const events = await followJsonStream(
      chunks('{"stream":"Step 1/2 : FROM x"}\r\n{"str', 'eam":"ok"}\n\n{"aux":{"ID":"sha256:ab"}}'),
      'build',
      (e) => seen.push(e),
    );
    expect(events).toEqual([{ stream: 'Step 1/2 : FROM x' }, { stream: 'ok' }, { aux: { ID: 'sha256:ab' } }]);
    expect(seen).toEqual(events);
  });

  it('keeps a line that is not JSON as a stream line', async () => {
    expect(await followJsonStream(chunks('plain text\n'), 'load')).toEqual([{ stream: 'plain text' }]);
  });

  it('rejects with EDOCKER on an error object inside a stream that otherwise succeeded', async () => {
    await expect(
      followJsonStream(
        chunks(
          '{"status":"Loading"}\n{"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"}\n',
        ),
        'load',
      ),
    ).rejects.toMatchObject({ code: 'EDOCKER', message: 'load: unexpected EOF' });
  });

  it('reads the stream to its end before rejecting, and reports the first error', async () => {
    const seen: DockerStreamEvent[] = [];
    await expect(
      followJsonStream(chunks('{"error":"first"}\n{"error":"second"}\n{"stream":"after"}\n'), 'pull', (e) =>
        seen.push(e),
      ),
    ).rejects.toMatchObject({ message: 'pull: first' });
    expect(seen).toHaveLength(3);
  });
});
