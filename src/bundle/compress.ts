import { spawn } from 'node:child_process';
import { Duplex, PassThrough, type Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { OfflineError } from '../errors.js';
import type { Compression } from './layout.js';
import { ParallelGzip } from './parallel-gzip.js';

/**
 * The compressor for a bundle archive. gzip is the default because GNU tar and Docker >= 20.10 read it on any
 * host (zstd needs the zstd tool, and docker load reads zstd only from Engine 23). bench/compression.bench.ts
 * measures the choices.
 */
export function createCompressor(compression: Compression, level?: number): Transform | Duplex {
  switch (compression) {
    case 'gzip':
      return new ParallelGzip(level ?? 6);
    case 'zstd':
      return spawnFilter('zstd', ['-q', `-${level ?? 3}`, '-T0', '-c', '-']);
    case 'none':
      return new PassThrough();
  }
}

/** A decompressor chosen by the first bytes of the archive, not by its name. */
export function createDecompressor(compression: Compression): Transform | Duplex {
  switch (compression) {
    case 'gzip':
      return createGunzip({ chunkSize: 256 * 1024 });
    case 'zstd':
      return spawnFilter('zstd', ['-q', '-d', '-c', '-']);
    case 'none':
      return new PassThrough();
  }
}

/** gzip 1f 8b, zstd 28 b5 2f fd, anything else is read as a plain tar. */
export function detectCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** A child process used as a stream filter (stdin -> stdout), failing clearly when the tool is missing. */
function spawnFilter(command: string, args: string[]): Duplex {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout as Readable });
  child.on('error', (error: NodeJS.ErrnoException) => {
    duplex.destroy(
      error.code === 'ENOENT'
        ? new OfflineError('EUSAGE', `${command} is not installed; install it or choose --compression gzip`, {
            file: command,
          })
        : error,
    );
  });
  child.on('close', (code) => {
    if (code !== 0 && code !== null) {
      duplex.destroy(
        new OfflineError('EFORMAT', `${command} failed (exit ${code}): ${stderr.trim()}`, { file: command }),
      );
    }
  });
  duplex.on('close', () => child.kill());
  return duplex;
}
