// `make bench`: runs every benchmark (or those whose name contains an argument) and prints their ratios.
// Each benchmark measures the plain docker/coreutils way in the same run and prints the ratio to it.

export interface Benchmark {
  name: string;
  run(): Promise<void>;
}

const benchmarks: Benchmark[] = [
  // each benchmark module registers here, one line each
  (await import('./compression.bench.js')).compressionBench,
  (await import('./export.bench.js')).exportBench,
  (await import('./import.bench.js')).importBench,
  (await import('./checksum.bench.js')).checksumBench,
  (await import('./tiktoken.bench.js')).tiktokenBench,
  (await import('./push.bench.js')).pushBench,
  (await import('./save-write.bench.js')).saveWriteBench,
  (await import('./rebuild.bench.js')).rebuildBench,
];

const filters = process.argv.slice(2);
const selected = benchmarks.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f)));
if (selected.length === 0) {
  process.stderr.write(
    `no benchmark matches ${filters.join(' ')}; have: ${benchmarks.map((b) => b.name).join(', ')}\n`,
  );
  process.exitCode = 2;
}
for (const bench of selected) {
  process.stderr.write(`\n== ${bench.name}\n`);
  await bench.run();
}
