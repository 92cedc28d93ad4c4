import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prefetchTiktoken } from '../src/tiktoken/prefetch.js';
import { DEFAULT_ENCODINGS, filesFor } from '../src/tiktoken/registry.js';
import { startFileServer } from '../test/support/tiktoken-server.js';
import { report } from './lib/measure.js';
import type { Benchmark } from './run.js';

const LATENCY_MS = 300;
/** Per-connection bandwidth cap, as a throttling CDN or proxy applies one. */
const BYTES_PER_SECOND = 16 * 1024 * 1024;

/**
 * Prefetch of the four default encodings from a local server with 300 ms latency and a per-connection
 * bandwidth cap: concurrency 4 against concurrency 1 (a download loop). Target ratio <= 0.35. The floor is the
 * largest file (o200k_base, about half the bytes): parallel time cannot beat latency + that file's transfer.
 */
async function run(): Promise<void> {
  const server = await startFileServer();
  server.setDefault({ kind: 'slow', latencyMs: LATENCY_MS, bytesPerSecond: BYTES_PER_SECOND });
  try {
    const timeWith = async (concurrency: number): Promise<number> => {
      const out = await mkdtemp(path.join(tmpdir(), 'offline-bench-tiktoken-'));
      try {
        const started = performance.now();
        await prefetchTiktoken({
          outDir: out,
          encodings: DEFAULT_ENCODINGS,
          baseUrl: server.url,
          concurrency,
        });
        return (performance.now() - started) / 1000;
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    };
    const serial = await timeWith(1);
    const parallel = await timeWith(4);
    const sizes = filesFor(DEFAULT_ENCODINGS).map((f) => f.size);
    const floor = LATENCY_MS / 1000 + Math.max(...sizes) / BYTES_PER_SECOND;
    report(
      'tiktoken prefetch, 4 files, 300 ms latency, 16 MiB/s per connection',
      { concurrency1_s: serial, concurrency4_s: parallel, floor_s: floor },
      { ratio: parallel / serial, target: '<=0.35', pass: parallel / serial <= 0.35 },
    );
  } finally {
    await server.close();
  }
}

export const tiktokenBench: Benchmark = { name: 'tiktoken', run };
