import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestRegistry {
  /** host:port on 127.0.0.1 */
  host: string;
  /** Where the registry stores its data (filesystem driver). */
  storage: string;
  /** With TLS: the self-signed certificate (PEM), and its file. */
  ca?: Buffer;
  caFile?: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1:<free port> with storage in a temp folder; with
 * `users`, htpasswd basic auth (bcrypt hashes from apache2-utils' htpasswd).
 */
export async function startRegistry(
  users?: Record<string, string>,
  options: { tls?: boolean } = {},
): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'offline-registry-'));
  const port = await freePort();
  const storage = path.join(dir, 'data');
  const auth: string[] = [];
  if (users) {
    const lines = Object.entries(users).map(([user, password]) =>
      execFileSync('htpasswd', ['-nbB', user, password], { encoding: 'utf8' }).trim(),
    );
    await writeFile(path.join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    auth.push('auth:', '  htpasswd:', '    realm: offline-test', `    path: ${path.join(dir, 'htpasswd')}`);
  }
  const tls: string[] = [];
  let ca: Buffer | undefined;
  if (options.tls) {
    // A self-signed certificate for 127.0.0.1: the client must be given it as --ca.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    ca = await readFile(path.join(dir, 'cert.pem'));
    tls.push(
      '  tls:',
      `    certificate: ${path.join(dir, 'cert.pem')}`,
      `    key: ${path.join(dir, 'key.pem')}`,
    );
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: offline-test-secret',
    ...tls,
    ...auth,
  ];
  await writeFile(path.join(dir, 'config.yml'), `${config.join('\n')}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await ping(host, ca);
    if (status === 200 || status === 401) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start on ${host}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    storage,
    ...(ca && { ca, caFile: path.join(dir, 'cert.pem') }),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** GET /v2/ over HTTP, or HTTPS trusting `ca`: the status, 0 when nothing answers. */
export function ping(host: string, ca?: Buffer, path = '/v2/'): Promise<number> {
  if (!ca) {
    return fetch(`http://${host}${path}`).then(
      (r) => r.status,
      () => 0,
    );
  }
  return new Promise((resolve) => {
    https
      .get(`https://${host}${path}`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });
}
