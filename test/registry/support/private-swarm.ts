import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { alive, lockAcrossProcesses } from '../../support/process-lock.js';
import { freePort } from './registry-server.js';

const run = promisify(execFile);

export interface PrivateSwarm {
  /** DOCKER_HOST for this engine. */
  host: string;
  docker(args: string[]): Promise<string>;
  /** The ID of the running container of a Swarm service's task ('' if none). */
  task(service: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A dockerd of the test's own (data root, exec root, socket under /tmp/osw-<random>), made a single-node Swarm
 * manager on 127.0.0.1. It never touches the shared dev engine's networking: it gets a bridge of its own, made
 * here (`--bridge=none` would not do: dockerd then deletes the host's docker0, which the dev engine uses), and no
 * iptables rules. The shared dev engine must never be swarm-initialised.
 *
 * Two Swarms on one host share docker_gwbridge and, on the default VXLAN port, collide on the overlay's VXLAN
 * device ("error creating vxlan interface: file exists"), so one private Swarm runs at a time (a lock file across
 * the test workers), each on a UDP data path port of its own, and the remains of a run that was killed before
 * its cleanup (network namespaces still mounted, a bridge) are swept first.
 */
export async function startPrivateSwarm(): Promise<PrivateSwarm> {
  const unlock = await lockAcrossProcesses(LOCK, 'a private Swarm', 170_000);
  await sweepStaleSwarms().catch(() => {});
  const id = randomBytes(4).toString('hex');
  const dir = `/tmp/osw-${id}`;
  const bridge = `osw${id}`;
  await mkdir(dir, { recursive: true });
  await makeBridge(bridge);
  // Swarm makes docker_gwbridge on the host and leaves it; remove it after unless it was there before.
  const hadGateway = await run('ip', ['link', 'show', 'docker_gwbridge']).then(
    () => true,
    () => false,
  );
  const host = `unix://${dir}/sock`;
  const daemon: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root',
      `${dir}/root`,
      '--exec-root',
      `${dir}/exec`,
      '--pidfile',
      `${dir}/pid`,
      '-H',
      host,
      `--bridge=${bridge}`,
      '--iptables=false',
      '--ip-forward=false',
      // docker_gwbridge and the like from a pool of its own, not the 172.x/192.168.x the dev engine's
      // networks take up.
      '--default-address-pool',
      'base=10.253.0.0/16,size=24',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const docker = async (args: string[]) =>
    (await run('docker', args, { env: { ...process.env, DOCKER_HOST: host } })).stdout;
  const stop = async () => {
    try {
      await docker(['swarm', 'leave', '--force']).catch(() => {});
      if (daemon.exitCode === null) {
        const exited = new Promise((resolve) => daemon.once('exit', resolve));
        daemon.kill('SIGTERM');
        const timer = setTimeout(() => daemon.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      await removeRemains(dir, bridge);
      if (!hadGateway) await run('ip', ['link', 'del', 'docker_gwbridge']).catch(() => {});
    } finally {
      await unlock();
    }
  };
  try {
    const deadline = Date.now() + 30_000;
    while (
      !(await docker(['version']).then(
        () => true,
        () => false,
      ))
    ) {
      if (daemon.exitCode !== null || Date.now() > deadline)
        throw new Error(`private dockerd did not start: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const port = await freePort();
    await docker([
      'swarm',
      'init',
      '--advertise-addr',
      '127.0.0.1',
      '--listen-addr',
      `127.0.0.1:${port}`,
      '--data-path-port',
      String(await freeUdpPort()),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  const task = async (service: string) =>
    (await docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`])).trim();
  return { host, docker, task, stop };
}

/** A bridge for the private engine on a /24 of 10.254.0.0/16 that no route of this host uses yet. */
async function makeBridge(name: string): Promise<void> {
  const routes = (await run('ip', ['-4', 'route'])).stdout;
  const free = Array.from({ length: 250 }, (_, i) => i + 1).find((n) => !routes.includes(`10.254.${n}.`));
  if (free === undefined) throw new Error('no free 10.254.x.0/24 for the private engine bridge');
  await run('ip', ['link', 'add', name, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `10.254.${free}.1/24`, 'dev', name]);
  await run('ip', ['link', 'set', name, 'up']);
}

/** Unmounts the network namespaces a dead or stopped private engine left under its folder, then removes both. */
async function removeRemains(dir: string, bridge: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((line) => line.split(' ')[1] ?? '');
  for (const mount of mounts.filter((m) => m.startsWith(`${dir}/`)).reverse()) {
    await run('umount', ['-l', mount]).catch(() => {});
  }
  await run('ip', ['link', 'del', bridge]).catch(() => {});
  await rm(dir, { recursive: true, force: true });
}

/** Removes what private engines of earlier, killed runs left behind: those whose dockerd is no longer alive. */
async function sweepStaleSwarms(): Promise<void> {
  for (const name of await readdir('/tmp')) {
    const match = /^osw-([0-9a-f]{8})$/.exec(name);
    if (!match) continue;
    const dir = `/tmp/${name}`;
    const pid = Number.parseInt(await readFile(`${dir}/pid`, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && alive(pid)) continue;
    // Only this run's lock holder starts engines, so an engine without a live pid is a leftover.
    await removeRemains(dir, `osw${match[1]}`);
  }
}

const LOCK = '/tmp/offline-private-swarm.lock';

/** A UDP port nothing listens on, for the Swarm's VXLAN data path (Swarm takes 1024-49151 only). */
async function freeUdpPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 29_000);
    const socket = createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, '0.0.0.0', () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      return port;
    }
  }
}
