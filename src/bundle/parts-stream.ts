import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { OfflineError } from '../errors.js';
import type { BundleLocation } from './locate.js';

const READ_CHUNK = 1024 * 1024;

/**
 * The archive's bytes as one stream, its parts joined in order with no joined copy on disk. Each part is hashed
 * as it is read and checked against the sidecar at its end: a bad part is named with expected and found sha256.
 */
export function openParts(location: BundleLocation, onBytes?: (bytes: number) => void): Readable {
  async function* read(): AsyncGenerator<Buffer> {
    let total = 0;
    for (const part of location.parts) {
      const name = path.basename(part);
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(part, { highWaterMark: READ_CHUNK })) {
        hash.update(chunk as Buffer);
        total += (chunk as Buffer).length;
        onBytes?.(total);
        yield chunk as Buffer;
      }
      const expected = location.expected.get(name);
      const found = hash.digest('hex');
      if (expected !== undefined && expected !== found) {
        throw new OfflineError(
          'EINTEGRITY',
          `${name}: sha256 differs from ${path.basename(location.sidecar ?? '')}; copy this file again`,
          {
            file: name,
            expected,
            found,
          },
        );
      }
    }
  }
  return Readable.from(read(), { objectMode: false });
}
