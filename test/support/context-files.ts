import type { Readable } from 'node:stream';
import * as tar from 'tar';

/** The files (not folders) a build context stream carries, sorted. */
export async function filesIn(stream: Readable): Promise<string[]> {
  const names: string[] = [];
  const parser = new tar.Parser({
    onReadEntry: (entry) => {
      if (entry.type === 'File') names.push(entry.path.replace(/^\.\//, ''));
      entry.resume();
    },
  });
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    parser.on('error', reject);
    parser.on('end', () => resolve());
    stream.pipe(parser);
  });
  return names.sort();
}
