import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
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

/** Ports a registry start tries before it gives up: another process may take the free port first. */
const START_ATTEMPTS = 5;
/** The header each test registry answers with, its value a UUID of its own (see startRegistry). */
const IDENTITY_HEADER = 'X-Offline-Test-Registry';

/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1:<free port> with storage in a temp folder; with
 * `users`, htpasswd basic auth (bcrypt hashes from apache2-utils' htpasswd).
 *
 * The free port is closed again before the registry binds it, so something else may bind it in between: a
 * registry another test file starts at the same moment, say. So each registry answers with a header of its own
 * (`http.headers`), and it is ready only when that header comes back; one that exits (the port taken) is started
 * again on another port.
 */
export async function startRegistry(
  users?: Record<string, string>,
  options: { tls?: boolean } = {},
): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'offline-registry-'));
  const storage = path.join(dir, 'data');
  const identity = randomUUID();
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
  const failures: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: offline-test-secret',
      '  headers:',
      `    ${IDENTITY_HEADER}: [${identity}]`,
      ...tls,
      ...auth,
    ];
    await writeFile(path.join(dir, 'config.yml'), `${config.join('\n')}\n`);
    const host = `127.0.0.1:${port}`;
    const child = await serve(path.join(dir, 'config.yml'), host, identity, ca);
    if (typeof child === 'string') {
      failures.push(`${host}: ${child}`);
      continue;
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
  await rm(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start: ${failures.join('; ')}`);
}

/**
 * Runs docker-registry with `config` and waits until `host` answers with this registry's identity header: the
 * child, or why it did not start (its log), once it has exited or 15 s have passed.
 */
async function serve(
  config: string,
  host: string,
  identity: string,
  ca?: Buffer,
): Promise<ChildProcess | string> {
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await get(host, ca);
    if (answer.header(IDENTITY_HEADER) === identity && (answer.status === 200 || answer.status === 401)) {
      return child;
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      return log.trim() || `exited ${child.exitCode}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Answer {
  /** The HTTP status, 0 when nothing answers. */
  status: number;
  header(name: string): string | undefined;
}

/** GET `path` over HTTP, or HTTPS trusting `ca`. */
function get(host: string, ca?: Buffer, path = '/v2/'): Promise<Answer> {
  const none: Answer = { status: 0, header: () => undefined };
  if (!ca) {
    return fetch(`http://${host}${path}`).then(
      (r) => ({ status: r.status, header: (name) => r.headers.get(name) ?? undefined }),
      () => none,
    );
  }
  return new Promise((resolve) => {
    https
      .get(`https://${host}${path}`, { ca }, (res) => {
        res.resume();
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value[0] : value;
          },
        });
      })
      .on('error', () => resolve(none));
  });
}

/** GET /v2/ over HTTP, or HTTPS trusting `ca`: the status, 0 when nothing answers. */
export async function ping(host: string, ca?: Buffer, path = '/v2/'): Promise<number> {
  return (await get(host, ca, path)).status;
}
