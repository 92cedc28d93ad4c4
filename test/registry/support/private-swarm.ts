import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { freePort } from './registry-server.js';

const run = promisify(execFile);

export interface PrivateSwarm {
  /** DOCKER_HOST for this engine. */
  host: string;
  docker(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A dockerd of the test's own (data root, exec root, socket under /tmp/osw-<random>), made a single-node Swarm
 * manager on 127.0.0.1. It never touches the shared dev engine's networking: it gets a bridge of its own, made
 * here (`--bridge=none` would not do: dockerd then deletes the host's docker0, which the dev engine uses), and no
 * iptables rules. The shared dev engine must never be swarm-initialised.
 */
export async function startPrivateSwarm(): Promise<PrivateSwarm> {
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
    await docker(['swarm', 'leave', '--force']).catch(() => {});
    if (daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    // Network namespaces the daemon bind-mounted under its exec root outlive it.
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '');
    for (const mount of mounts.filter((m) => m.startsWith(`${dir}/`)).reverse()) {
      await run('umount', ['-l', mount]).catch(() => {});
    }
    await run('ip', ['link', 'del', bridge]).catch(() => {});
    if (!hadGateway) await run('ip', ['link', 'del', 'docker_gwbridge']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
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
    await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, docker, stop };
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
