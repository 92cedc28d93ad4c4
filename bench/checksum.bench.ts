// Checksum benchmark: a 1 GiB file of random bytes in a temp folder (deleted after). In one run it measures
// `sha256sum -c` against `offline checksum verify` (the built CLI, dist/offline.mjs run as a program) on the
// same folder, alternating them so both see the same warm page cache, and prints the ratio of the medians
// (target <= 1.10).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHECKSUMS_FILE } from '../src/checksum/directory.js';
import { buildCli, builtCli } from './lib/cli.js';
import { type Measured, measure, median, report } from './lib/measure.js';
import { writeRandomFile } from './lib/random-file.js';
import type { Benchmark } from './run.js';

const MiB = 1024 * 1024;
const FILE_SIZE = 1024 * MiB;
const ROUNDS = 3;
const cli = builtCli;

async function run(): Promise<void> {
  buildCli();
  const dir = await mkdtemp(path.join(tmpdir(), 'offline-bench-checksum-'));
  try {
    await writeRandomFile(path.join(dir, 'big.bin'), FILE_SIZE);
    const env = { OFFLINE_SILENT: '1' };
    // Not timed: writes the list (and warms the page cache), then proves both tools accept it.
    await measure(cli, ['checksum', 'create', dir], { env });
    await measure('sha256sum', ['-c', '--quiet', CHECKSUMS_FILE], { cwd: dir });
    const gnu: Measured[] = [];
    const offline: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      gnu.push(await measure('sha256sum', ['-c', '--quiet', CHECKSUMS_FILE], { cwd: dir }));
      offline.push(await measure(cli, ['checksum', 'verify', dir, '--json'], { env }));
    }
    const result = JSON.parse(offline[0]?.stdout ?? '{}') as { ok?: boolean; verified?: number };
    if (!result.ok || result.verified !== 1)
      throw new Error(`offline checksum verify said ${offline[0]?.stdout}`);
    const gnuSeconds = median(gnu).seconds;
    const offlineSeconds = median(offline).seconds;
    const ratio = offlineSeconds / gnuSeconds;
    report(
      'checksum verify 1 GiB',
      {
        sha256sum_s: gnuSeconds,
        offline_s: offlineSeconds,
        offline_MiB_s: FILE_SIZE / MiB / offlineSeconds,
        offline_peak_RSS_MiB: Math.max(...offline.map((m) => m.peakRssMiB)),
        rounds: ROUNDS,
      },
      { ratio, target: '<=1.10', pass: ratio <= 1.1 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const checksumBench: Benchmark = { name: 'checksum', run };
