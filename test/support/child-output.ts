import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/** A child's output so far: read it once the child closed. */
export interface ChildOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** Gathers the text a child spawned with stdout and stderr piped writes to each. */
export function gatherOutput(child: ChildProcessByStdio<null, Readable, Readable>): ChildOutput {
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => {
    output.stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output.stderr += d.toString();
  });
  return output;
}
