// Writing a `docker save` stream to disk. The engine's HTTP response arrives in pieces of about 20 KiB;
// writeStreamAtomic merges them into 1 MiB writes (src/fs/coalesce-chunks.ts), and this benchmark backs the
// figure given there. On the export benchmark's base image (~210 MB), alternating three times, each after `sync`:
//   plain      `docker save -o`
//   coalesced  GET /images/get through CoalesceChunks and a sha256 HashStream to a file (as writeStreamAtomic)
//   direct     the same without CoalesceChunks
// coalesced and direct run in a tsx process of their own; their time is the save's, from the request to the
// file closed, as the process reports it (tsx's start-up and module compile are left out; the docker CLI's
// start-up, ~50 ms, is in plain's). It prints coalesced/plain and direct/plain, with no target.
//   npx tsx bench/run.ts save-write        (or: make bench BENCH_ARGS=save-write)

import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { HashStream } from '../src/checksum/hash-stream.js';
import { connectDocker } from '../src/docker/connect.js';
import { CoalesceChunks } from '../src/fs/coalesce-chunks.js';
import { prepareExportStack } from './export.bench.js';
import { alternate, type Measured, measure, measureShell, median, report } from './lib/measure.js';
import type { Benchmark } from './run.js';

const ROOT = '/tmp/offline-bench-save-write';
const IMAGE = 'offline-bench/export-base:v1';
const self = fileURLToPath(import.meta.url);
const tsx = path.resolve(path.dirname(self), '../node_modules/.bin/tsx');
type Mode = 'coalesced' | 'direct';

/** One save streamed to `out`, merged into 1 MiB writes or written piece by piece; prints its seconds. */
async function work(mode: Mode, out: string): Promise<void> {
  const engine = await connectDocker();
  const started = performance.now();
  const save = await engine.saveImages([IMAGE]);
  const merge = mode === 'coalesced' ? new CoalesceChunks() : new PassThrough();
  await pipeline(save, merge, new HashStream(), createWriteStream(out));
  process.stdout.write(`${(performance.now() - started) / 1000}\n`);
}

/** The worker's own figure: the save's seconds, without the process's start-up. */
async function worker(mode: Mode, out: string): Promise<Measured> {
  const run = await measure(tsx, [self, '--worker', mode, out]);
  return { ...run, seconds: Number(run.stdout.trim()) };
}

async function run(): Promise<void> {
  await prepareExportStack(await connectDocker());
  const out = (name: string) => path.join(ROOT, `${name}.tar`);
  const clear = async () => {
    await rm(ROOT, { recursive: true, force: true });
    await mkdir(ROOT, { recursive: true });
  };
  try {
    const runs = await alternate({
      plain: { prepare: clear, run: () => measureShell(`docker save -o ${out('plain')} ${IMAGE}`) },
      coalesced: { prepare: clear, run: () => worker('coalesced', out('coalesced')) },
      direct: { prepare: clear, run: () => worker('direct', out('direct')) },
    });
    const plain = median(runs.plain).seconds;
    for (const way of ['coalesced', 'direct'] as const) {
      const seconds = median(runs[way]).seconds;
      report(`save to disk, ${way} writes, vs docker save -o (no target)`, {
        plain_s: plain,
        offline_s: seconds,
        ratio: seconds / plain,
      });
    }
  } finally {
    await rm(ROOT, { recursive: true, force: true });
  }
}

export const saveWriteBench: Benchmark = { name: 'save-write', run };

if (process.argv[1] === self && process.argv[2] === '--worker') {
  await work(process.argv[3] as Mode, process.argv[4] as string);
}
