import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The temp folders push spools images/images.tar into. Each is named after the run that made it:
 * `offline-push-<boot id>-<pid namespace>-<pid>-<random>`. A push removes its own in any case, Ctrl-C and
 * SIGTERM included; one killed outright (SIGKILL, the OOM killer) cannot, and its spool, a full copy of the
 * images, would stay in TMPDIR. The next push removes such spools: those made before the last boot, and those
 * whose process is gone in the same PID namespace. A spool of another namespace (a container sharing /tmp),
 * or of an older name, is left alone: its process cannot be checked from here.
 */
const PREFIX = 'offline-push-';
const NAMED = /^offline-push-([0-9a-f]{8})-(\d+)-(\d+)-/;

interface RunIdentity {
  boot: string;
  namespace: string;
}

/** This boot and PID namespace, where Linux says them; undefined elsewhere (nothing is then swept). */
async function runIdentity(): Promise<RunIdentity | undefined> {
  const boot = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined);
  const namespace = /\[(\d+)\]/.exec((await readlink('/proc/self/ns/pid').catch(() => '')) ?? '')?.[1];
  if (boot === undefined || namespace === undefined) return undefined;
  return { boot: boot.trim().replace(/-/g, '').slice(0, 8), namespace };
}

/** Makes this run's spool folder under `dir` (TMPDIR by default). */
export async function makeSpool(dir: string = tmpdir()): Promise<string> {
  const id = await runIdentity();
  const name = id ? `${PREFIX}${id.boot}-${id.namespace}-${process.pid}-` : PREFIX;
  return mkdtemp(path.join(dir, name));
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes the spools under `dir` that killed pushes left; returns their names. */
export async function sweepStaleSpools(dir: string = tmpdir()): Promise<string[]> {
  const id = await runIdentity();
  if (!id) return [];
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const [, boot, namespace, pid] = NAMED.exec(name) ?? [];
    if (boot === undefined || namespace === undefined || pid === undefined) continue;
    const stale = boot !== id.boot || (namespace === id.namespace && !running(Number(pid)));
    if (!stale) continue;
    await rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
