// Compression benchmark for the bundle archive: on a ~500 MB image-like tar (layers of log-like text,
// code-like low-entropy bytes and incompressible random bytes, from a seeded generator), time and size of
// Node's zlib gzip (one stream), our parallel gzip (src/bundle/parallel-gzip.ts), pigz, zstd -T0 (through the
// same child-process path packBundle uses) and none; plus the time to read each back. Each runs as its own
// process under GNU time (wall seconds, peak RSS).
//   npx tsx bench/run.ts compression        (or: make bench BENCH_ARGS=compression)

import { createCipheriv } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip, createGzip } from 'node:zlib';
import { Header } from 'tar';
import { createCompressor, createDecompressor } from '../src/bundle/compress.js';
import type { Compression } from '../src/bundle/layout.js';
import { measure, measureShell, report } from './lib/measure.js';
import type { Benchmark } from './run.js';

const MiB = 1024 * 1024;
const ROOT = '/tmp/offline-bench-compression';
const GENERATION = 'v1';
const INPUT = path.join(ROOT, `image-like-${GENERATION}.tar`);
const LAYER = 50 * MiB;
const LAYERS = 10;
const self = fileURLToPath(import.meta.url);
const tsx = path.resolve(path.dirname(self), '../node_modules/.bin/tsx');

/** Seeded pseudo-random bytes at GB/s: AES-128-CTR over zeros with a fixed key. */
function randomStream(seed: number): (n: number) => Buffer {
  const key = Buffer.alloc(16, seed);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16, 0));
  return (n) => cipher.update(Buffer.alloc(n));
}

const WORDS =
  'GET POST /api/v1/users /health 200 404 500 info warn error request took ms user=%d session cache hit miss'.split(
    ' ',
  );

/** One layer's bytes, 1 MiB at a time: 40% log-like text, 30% code-like (low entropy), 30% random. */
function* layerChunks(index: number): Generator<Buffer> {
  const random = randomStream(index + 1);
  for (let done = 0; done < LAYER; done += MiB) {
    const kind = (done / MiB + index) % 10;
    const noise = random(MiB);
    if (kind < 4) {
      const lines: string[] = [];
      let size = 0;
      for (let i = 0; size < MiB; i++) {
        const r = noise.readUInt32LE((i * 4) % (MiB - 4));
        const line = `2026-01-0${(r % 9) + 1}T${r % 24}:${r % 60}:${(r >>> 8) % 60}Z ${WORDS[r % WORDS.length]} ${WORDS[(r >>> 5) % WORDS.length]} ${r % 100000} ${WORDS[(r >>> 11) % WORDS.length]}\n`;
        lines.push(line);
        size += line.length;
      }
      yield Buffer.from(lines.join('')).subarray(0, MiB);
    } else if (kind < 7) {
      for (let i = 0; i < noise.length; i++) if (i % 3 !== 0) noise[i] = (noise[i] as number) & 0x0f;
      yield noise;
    } else {
      yield noise;
    }
  }
}

async function generateInput(): Promise<void> {
  if ((await stat(INPUT).catch(() => undefined))?.size === LAYERS * (LAYER + 512) + 1024) return;
  await mkdir(ROOT, { recursive: true });
  const out = createWriteStream(`${INPUT}.tmp`);
  async function* tarBytes(): AsyncGenerator<Buffer> {
    for (let i = 0; i < LAYERS; i++) {
      const header = Buffer.alloc(512);
      new Header({
        path: `layer${i}/layer.tar`,
        mode: 0o644,
        size: LAYER,
        mtime: new Date(0),
        type: 'File',
      }).encode(header, 0);
      yield header;
      yield* layerChunks(i);
    }
    yield Buffer.alloc(1024);
  }
  await pipeline(tarBytes, out);
  await rm(INPUT, { force: true });
  await import('node:fs/promises').then((fs) => fs.rename(`${INPUT}.tmp`, INPUT));
}

type Mode = 'node-gzip' | Compression;

/** Worker: compress or decompress one file the way the tool does. */
async function work(
  direction: 'compress' | 'decompress',
  mode: Mode,
  input: string,
  output: string,
): Promise<void> {
  const filter =
    direction === 'compress'
      ? mode === 'node-gzip'
        ? createGzip({ level: 6 })
        : createCompressor(mode)
      : mode === 'node-gzip'
        ? createGunzip()
        : createDecompressor(mode);
  const sink = output === '-' ? new Writable({ write: (_c, _e, cb) => cb() }) : createWriteStream(output);
  await pipeline(createReadStream(input, { highWaterMark: MiB }), filter, sink);
}

async function run(): Promise<void> {
  await generateInput();
  const inputSize = (await stat(INPUT)).size;
  report('compression input', { MiB: inputSize / MiB, file: INPUT });
  const rows: { name: string; seconds: number; size: number }[] = [];
  const cases: { name: string; mode?: Mode; shell?: string; ext: string }[] = [
    { name: 'node zlib gzip -6 (one stream)', mode: 'node-gzip', ext: 'node.gz' },
    { name: 'parallel gzip -6 (ours, 4 MiB members)', mode: 'gzip', ext: 'par.gz' },
    { name: 'pigz -6', shell: 'pigz -6 -c', ext: 'pigz.gz' },
    { name: 'zstd -3 -T0 (via the tool)', mode: 'zstd', ext: 'zst' },
    { name: 'none', mode: 'none', ext: 'tar' },
  ];
  for (const c of cases) {
    const out = path.join(ROOT, `out.${c.ext}`);
    await rm(out, { force: true });
    const m = c.shell
      ? await measureShell(`${c.shell} ${INPUT} > ${out}`)
      : await measure(tsx, [self, '--worker', 'compress', c.mode as string, INPUT, out]);
    const size = (await stat(out)).size;
    const readMode: Mode = c.mode ?? 'gzip';
    const back = await measure(tsx, [self, '--worker', 'decompress', readMode, out, '-']);
    rows.push({ name: c.name, seconds: m.seconds, size });
    report(`compress ${c.name}`, {
      seconds: m.seconds,
      MiB: size / MiB,
      ratio: size / inputSize,
      'MB/s': inputSize / 1e6 / m.seconds,
      peakRssMiB: m.peakRssMiB,
      readBackSeconds: back.seconds,
      readBackRssMiB: back.peakRssMiB,
    });
    await rm(out, { force: true });
  }
  const node = rows[0] as (typeof rows)[number];
  const ours = rows[1] as (typeof rows)[number];
  report(
    'parallel gzip vs node gzip',
    { speedup: node.seconds / ours.seconds, sizeRatio: ours.size / node.size },
    { ratio: ours.seconds / node.seconds, target: '<1', pass: ours.seconds < node.seconds },
  );
}

export const compressionBench: Benchmark = { name: 'compression', run };

if (process.argv[1] === self && process.argv[2] === '--worker') {
  const [, , , direction, mode, input, output] = process.argv;
  await work(direction as 'compress' | 'decompress', mode as Mode, input as string, output as string);
}
