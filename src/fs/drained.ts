import type { Writable } from 'node:stream';

/** Resolves when the stream drains, or when it closes (destroyed: the caller checks and stops). */
export function drained(stream: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
