import { Duplex, PassThrough, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type ErrorCode, OfflineError } from '../errors.js';
import type { Compression } from './layout.js';
import { ParallelGzip } from './parallel-gzip.js';

/**
 * The default compression: gzip, written by our parallel gzip (parallel-gzip.ts). Measured by
 * `npx tsx bench/run.ts compression` on a 500 MiB image-like tar (2 cores, shared host):
 *   node zlib gzip -6, one stream   25.6 s  314.9 MiB  peak RSS 113 MiB  (read back 5.0 s)
 *   parallel gzip -6 (ours)         12.1 s  314.9 MiB  peak RSS 190 MiB  (2.1x node's; read back 2.3 s)
 *   pigz -6                         12.4 s  316.4 MiB
 *   zstd -3 -T0 (child process)      3.2 s  316.7 MiB  (read back 2.3 s)
 *   none                             1.9 s  500.0 MiB
 * zstd is ~4x faster at the same size, but the default must import by hand with only GNU tar, coreutils and
 * Docker >= 20.10 (`tar xzf`), and zstd is none of those: it stays opt-in (--compression zstd). pigz is as
 * fast as ours but not always installed, and its bytes differ from ours, so using it when present would
 * make the bundle's bytes depend on the host (the format promises the same bytes for the same inputs).
 */
export const DEFAULT_COMPRESSION: Compression = 'gzip';

/** The compressor for a bundle archive; zstd runs the zstd tool (Node 20's zlib has no zstd). */
export function createCompressor(compression: Compression, level?: number): Transform | Duplex {
  switch (compression) {
    case 'gzip':
      return new ParallelGzip(level ?? 6);
    case 'zstd':
      return spawnFilter('zstd', ['-q', `-${level ?? 3}`, '-T0', '-c', '-'], 'EINTERNAL');
    case 'none':
      return new PassThrough();
  }
}

/**
 * gunzip's output piece size; each piece is one trip through libuv's thread pool and the stream machinery. On
 * the import benchmark's bundle (240 MB of gzip, 2 cores, three runs each), `offline verify` took 1.06-1.18 s
 * (1.21-1.36 s of CPU) with 1 MiB pieces against 1.26-1.42 s (1.39-1.54 s) with 256 KiB. Gunzip and sha256
 * alone used 1.02-1.13 s of CPU with 1 MiB, 1.14-1.25 s with 256 KiB and 1.75-1.94 s with 64 KiB; 4 MiB gave
 * no more.
 */
const GUNZIP_CHUNK = 1024 * 1024;

/**
 * A decompressor chosen by the first bytes of the archive, not by its name. Damaged or cut-short input fails it
 * with a plain Error, as Node's gunzip does, which the reader reports as damage where it was found.
 */
export function createDecompressor(compression: Compression): Transform | Duplex {
  switch (compression) {
    case 'gzip':
      return createGunzip({ chunkSize: GUNZIP_CHUNK });
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

/** How much of a child's stderr (its last bytes) its error message keeps. */
const STDERR_KEPT = 4096;

/**
 * A child process used as a stream filter (stdin -> stdout). Its output ends only once the child has exited 0:
 * a non-zero exit or a death by signal fails the stream with the tool's stderr, so a tool that fails part-way
 * (a full disk, damaged input) never leaves a complete-looking output. A missing tool fails clearly. `failure`
 * is the code of an exit that is not 0 when writing a bundle (EINTERNAL); reading one, it is a plain Error
 * (damaged bytes: the reader names where).
 */
function spawnFilter(command: string, args: string[], failure?: ErrorCode): Duplex {
  // child_process is loaded here, on first use: a gzip bundle's import never spawns (about 1 ms of a start-up).
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_KEPT);
  });
  // A write to a child that died fails (EPIPE); its exit, below, says why it died.
  let inputError: Error | undefined;
  child.stdin.on('error', (error) => {
    inputError ??= error;
  });
  const filter = new Duplex({
    read() {
      child.stdout.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (child.stdin.write(chunk)) callback();
      else child.stdin.once('drain', () => callback());
    },
    final(callback) {
      child.stdin.end(() => callback());
    },
    destroy(error, callback) {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      callback(error);
    },
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (!filter.destroyed && !filter.push(chunk)) child.stdout.pause();
  });
  child.on('error', (error: NodeJS.ErrnoException) => {
    filter.destroy(
      error.code === 'ENOENT'
        ? new OfflineError('EUSAGE', `${command} is not installed; install it or choose --compression gzip`, {
            file: command,
          })
        : error,
    );
  });
  // 'close' comes after the child's stdout has ended, so every byte it wrote has been pushed by now.
  child.on('close', (code, signal) => {
    if (filter.destroyed) return;
    if (code === 0 && !inputError) {
      filter.push(null);
      return;
    }
    const found =
      code === 0 ? 'exit 0 before reading all its input' : signal ? `signal ${signal}` : `exit ${code}`;
    const said = stderr.trim() || inputError?.message || 'nothing on stderr';
    const message = `${command} failed (${found}): ${said}`;
    const cause = inputError && { cause: inputError };
    filter.destroy(
      failure
        ? new OfflineError(failure, message, { file: command, expected: 'exit 0', found, ...cause })
        : new Error(message, cause),
    );
  });
  return filter;
}
