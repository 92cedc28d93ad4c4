// Export benchmark: a generated stack of 3 built images sharing a ~200 MB base layer (half log-like text, half
// random bytes, from a seeded generator) plus ~50 MB of their own each. In one run it measures the seed way
// (`docker save` per image into separate tars, `tar czf` of them, `sha256sum`) against `offline export`, three
// times each, alternating, each after `sync` (not timed), and compares the medians: on a small shared VM one
// run of either varies by several seconds.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connectDocker } from '../src/docker/connect.js';
import type { DockerEngine } from '../src/docker/engine.js';
import { buildContextStream } from '../src/export/build-context.js';
import { ensureBusyboxBase } from '../tools/busybox-base.js';
import { buildCli, builtCli } from './lib/cli.js';
import { alternate, measure, measureShell, median, report } from './lib/measure.js';
import type { Benchmark } from './run.js';

const MiB = 1024 * 1024;
const ROOT = '/tmp/offline-bench-export';
const GENERATION = 'v1'; // bump when the generated data changes
const BASE_TAG = `offline-bench/export-base:${GENERATION}`;
const APPS = ['alpha', 'beta', 'gamma'];
const NAME = 'benchexport';

/** xorshift32: a fast seeded generator, so every run builds the same bytes. */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const WORDS =
  'request response user session cache timeout retry connect database query index table worker queue job ' +
  'started finished failed warning error info debug upstream downstream latency bytes token model prompt';

/** Writes `bytes` of log-like text (compresses about 4-6x) or of random bytes, seeded. */
async function writeData(file: string, bytes: number, kind: 'text' | 'random', seed: number): Promise<void> {
  const next = generator(seed);
  const words = WORDS.split(' ');
  const out = createWriteStream(file);
  let written = 0;
  while (written < bytes) {
    let chunk: Buffer;
    if (kind === 'random') {
      const words32 = new Uint32Array(MiB / 4);
      for (let i = 0; i < words32.length; i++) words32[i] = next();
      chunk = Buffer.from(words32.buffer);
    } else {
      const lines: string[] = [];
      let size = 0;
      while (size < MiB) {
        const n = next();
        const line = `2026-11-${String((n % 28) + 1).padStart(2, '0')}T${String(n % 24).padStart(2, '0')}:${String(
          (n >>> 8) % 60,
        ).padStart(
          2,
          '0',
        )} ${words[n % words.length]} ${words[(n >>> 5) % words.length]} id=${n.toString(16)} ms=${
          (n >>> 12) % 5000
        }\n`;
        lines.push(line);
        size += line.length;
      }
      chunk = Buffer.from(lines.join(''));
    }
    const slice = chunk.subarray(0, Math.min(chunk.length, bytes - written));
    if (!out.write(slice)) await once(out, 'drain');
    written += slice.length;
  }
  out.end();
  await once(out, 'finish');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** The stack's folders: the base's context and one per app, plus the compose file. Made once, reused. */
async function generateStack(busybox: string): Promise<string> {
  const dir = path.join(ROOT, GENERATION);
  const done = path.join(dir, '.complete');
  if (await exists(done)) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'base/data'), { recursive: true });
  await writeData(path.join(dir, 'base/data/logs.txt'), 100 * MiB, 'text', 1);
  await writeData(path.join(dir, 'base/data/blob.bin'), 100 * MiB, 'random', 2);
  await writeFile(path.join(dir, 'base/Dockerfile'), `FROM ${busybox}\nCOPY data/ /opt/shared/\n`);
  const services: string[] = [];
  for (const [index, app] of APPS.entries()) {
    await mkdir(path.join(dir, app, 'data'), { recursive: true });
    await writeData(path.join(dir, app, 'data/app.log'), 25 * MiB, 'text', 10 + index);
    await writeData(path.join(dir, app, 'data/model.bin'), 25 * MiB, 'random', 20 + index);
    await writeFile(
      path.join(dir, app, 'Dockerfile'),
      `FROM ${BASE_TAG}\nCOPY data/ /opt/${app}/\nCMD ["sh", "-c", "sleep 3600"]\n`,
    );
    services.push(`  ${app}:\n    build: ./${app}\n`);
  }
  await writeFile(path.join(dir, 'docker-compose.yml'), `services:\n${services.join('')}`);
  await writeFile(done, '');
  return dir;
}

async function buildBase(engine: DockerEngine, dir: string): Promise<void> {
  if (await engine.inspectImage(BASE_TAG)) return;
  await engine.buildImage(await buildContextStream(path.join(dir, 'base'), 'Dockerfile'), {
    tags: [BASE_TAG],
  });
}

async function sizeOfDir(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(path.join(dir, name))).size;
  return total;
}

/** Generates the stack (once) and builds its base image (once); returns the stack folder. */
export async function prepareExportStack(engine: DockerEngine): Promise<string> {
  const dir = await generateStack(await ensureBusyboxBase(engine));
  await buildBase(engine, dir);
  return dir;
}

async function run(): Promise<void> {
  const engine = await connectDocker();
  const dir = await prepareExportStack(engine);
  buildCli();
  const exportArgs = (out: string) => [
    'export',
    '-f',
    path.join(dir, 'docker-compose.yml'),
    '--name',
    NAME,
    '--version',
    GENERATION,
    '--out',
    out,
    '--pull',
    'never',
    '--force',
    '--json',
  ];
  const env = { OFFLINE_SILENT: '1', SOURCE_DATE_EPOCH: '1700000000' };
  const work = path.join(ROOT, 'runs');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  // Prebuild (not timed): the first export builds the app images; later ones find every step in the cache.
  await measure(builtCli, exportArgs(path.join(work, 'warmup')), { env });
  const images = APPS.map((app) => `${NAME}_${app}:latest`);

  const seedDir = path.join(work, 'seed');
  const seedScript = [
    `mkdir -p ${seedDir} && cd ${seedDir}`,
    ...images.map((ref, i) => `docker save -o image${i}.tar ${ref}`),
    'tar czf bundle.tar.gz image*.tar',
    'sha256sum bundle.tar.gz > bundle.tar.gz.sha256',
  ].join(' && ');
  const outDir = path.join(work, 'offline');
  let seedSize = 0;
  const runs = await alternate({
    seed: {
      prepare: () => rm(seedDir, { recursive: true, force: true }),
      run: async () => {
        const run = await measureShell(seedScript);
        seedSize = (await stat(path.join(seedDir, 'bundle.tar.gz'))).size;
        return run;
      },
    },
    offline: {
      prepare: async () => {
        await rm(seedDir, { recursive: true, force: true });
        await rm(outDir, { recursive: true, force: true });
      },
      run: () => measure(builtCli, exportArgs(outDir), { env }),
    },
  });
  const seed = median(runs.seed);
  const offline = median(runs.offline);
  const result = JSON.parse(offline.stdout) as {
    size: number;
    compression: string;
    timings: Record<string, number>;
  };
  const offlineSize = await sizeOfDir(outDir);
  process.stderr.write(`offline export timings: ${JSON.stringify(result.timings)}\n`);

  const sizeRatio = offlineSize / seedSize;
  report(
    'export bundle size',
    { seed_MiB: seedSize / MiB, offline_MiB: offlineSize / MiB, compression: result.compression },
    { ratio: sizeRatio, target: '<=0.5', pass: sizeRatio <= 0.5 },
  );
  const timeRatio = offline.seconds / seed.seconds;
  report(
    'export wall time',
    { seed_s: seed.seconds, offline_s: offline.seconds },
    { ratio: timeRatio, target: '<=0.5', pass: timeRatio <= 0.5 },
  );
  const peakRss = Math.max(...runs.offline.map((r) => r.peakRssMiB));
  report(
    'export peak RSS (the highest of the three runs)',
    { offline_MiB: peakRss, target_MiB: 200 },
    { ratio: peakRss / 200, target: '<=1', pass: peakRss <= 200 },
  );

  // The same export with --compression zstd (gzip stays the default: GNU tar and docker read it everywhere).
  const zstdDir = path.join(work, 'offline-zstd');
  const zstd = await measure(builtCli, [...exportArgs(zstdDir), '--compression', 'zstd'], { env });
  const zstdSize = await sizeOfDir(zstdDir);
  report(
    'export with zstd',
    { offline_MiB: zstdSize / MiB, offline_s: zstd.seconds, peak_rss_MiB: zstd.peakRssMiB },
    { ratio: zstd.seconds / seed.seconds, target: '<=0.5', pass: zstd.seconds / seed.seconds <= 0.5 },
  );
  await rm(work, { recursive: true, force: true });
}

export const exportBench: Benchmark = { name: 'export', run };
