// Push benchmark: the export benchmark's generated stack (3 images on a ~200 MB shared base) exported once into
// a bundle, then pushed to a local docker-registry by `offline push` (from the bundle, no engine) against
// `docker tag` + `docker push` of the same images into another repository prefix of the same registry; then a
// repeat `offline push`, which must send no blob bytes.

import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { connectDocker } from '../src/docker/connect.js';
import { startRegistry } from '../test/registry/support/registry-server.js';
import { prepareExportStack } from './export.bench.js';
import { buildCli, builtCli, exportStack } from './lib/cli.js';
import { measure, measureShell, report } from './lib/measure.js';
import type { Benchmark } from './run.js';

const MiB = 1024 * 1024;
const ROOT = '/tmp/offline-bench-push';
// The export benchmark's project name: its export builds the same app images, so both benchmarks share them.
const NAME = 'benchexport';
const APPS = ['alpha', 'beta', 'gamma'];

interface PushJson {
  bytesSent: number;
  blobs: Record<string, number>;
}

async function run(): Promise<void> {
  const engine = await connectDocker();
  const stack = await prepareExportStack(engine);
  buildCli();
  const env = {
    OFFLINE_SILENT: '1',
    SOURCE_DATE_EPOCH: '1700000000',
    OFFLINE_UPLOAD_STATE_DIR: path.join(ROOT, 'state'),
  };
  await rm(ROOT, { recursive: true, force: true });
  await mkdir(ROOT, { recursive: true });
  const bundleDir = path.join(ROOT, 'bundle');
  // Not timed: the bundle both sides start from (and the app images it builds, which docker push reads).
  await exportStack(stack, { name: NAME, version: 'v1', out: bundleDir }, env);
  const images = APPS.map((app) => `${NAME}_${app}:latest`);
  const registry = await startRegistry();
  const tagged = images.map((ref) => `${registry.host}/docker/${ref}`);
  try {
    const push = (prefix: string) =>
      measure(
        builtCli,
        ['push', bundleDir, '--registry', `${registry.host}/${prefix}`, '--insecure', '--json'],
        { env },
      );
    const offline = await push('offline');
    const first = JSON.parse(offline.stdout) as PushJson;

    const dockerScript = [
      ...images.map((ref, i) => `docker tag ${ref} ${tagged[i]}`),
      ...tagged.map((ref) => `docker push -q ${ref} >/dev/null`),
    ].join(' && ');
    const docker = await measureShell(dockerScript);

    const again = await push('offline');
    const repeat = JSON.parse(again.stdout) as PushJson;

    const ratio = offline.seconds / docker.seconds;
    report(
      'push wall time',
      {
        docker_push_s: docker.seconds,
        offline_push_s: offline.seconds,
        sent_MiB: first.bytesSent / MiB,
        peak_rss_MiB: offline.peakRssMiB,
      },
      { ratio, target: '<=1.0', pass: ratio <= 1 },
    );
    report(
      'repeat push',
      {
        offline_push_s: again.seconds,
        blob_bytes_sent: repeat.bytesSent,
        blobs_present: repeat.blobs.present ?? 0,
      },
      { ratio: repeat.bytesSent, target: '==0', pass: repeat.bytesSent === 0 },
    );
  } finally {
    for (const ref of tagged) await engine.removeImage(ref).catch(() => {});
    await registry.stop();
    await rm(ROOT, { recursive: true, force: true });
  }
}

export const pushBench: Benchmark = { name: 'push', run };
