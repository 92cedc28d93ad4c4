import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { tempDir } from './temp-dir.js';

/**
 * A unix socket in front of the Docker engine's that passes every byte on and notes each request's path; with
 * `holdResponsesTo`, the answers to requests of matching paths wait in the recorder (the engine does the work,
 * the client waits for its answer) until release().
 */
export interface EngineRecorder {
  /** DOCKER_HOST for a command that should go through the recorder. */
  dockerHost: string;
  /** The paths requested so far (the API version prefix and query left out: `/version`, `/images/json`). */
  paths(): string[];
  /** Passes on the answers held so far, and every later one. */
  release(): void;
  close(): Promise<void>;
}

/** The engine's unix socket, from DOCKER_HOST (the tests' engine is always a unix socket). */
function engineSocket(): string {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://'))
    throw new Error(`engine-recorder: DOCKER_HOST ${host} is not a unix socket`);
  return host.slice('unix://'.length);
}

export async function recordEngineRequests(
  options: { holdResponsesTo?: RegExp } = {},
): Promise<EngineRecorder> {
  const socket = path.join(await tempDir('offline-recorder-'), 'engine.sock');
  const upstream = engineSocket();
  const seen: string[] = [];
  const connections = new Set<Socket>();
  /** Whether answers pass: nothing to hold, or release() was called. */
  let released = options.holdResponsesTo === undefined;
  /** How each connection holding an answer lets it go. */
  const onRelease: (() => void)[] = [];
  const server: Server = createServer((client) => {
    const engine = connect(upstream);
    connections.add(client).add(engine);
    let holding = false;
    client.on('data', (chunk: Buffer) => {
      // A request line starts a chunk or follows a CRLF; bodies (a docker load) are never read as one here
      // unless they hold such a line, which no test body does.
      for (const match of chunk
        .toString('latin1')
        .matchAll(/(?:^|\r\n)(?:GET|HEAD|POST|PUT|DELETE) (\S+) HTTP\/1\.1\r\n/g)) {
        const requested = (match[1] ?? '').replace(/^\/v\d+\.\d+/, '').replace(/\?.*$/, '');
        seen.push(requested);
        if (!released && options.holdResponsesTo?.test(requested) && !holding) {
          holding = true;
          engine.pause();
          onRelease.push(() => engine.resume());
        }
      }
    });
    // A paused engine socket keeps what it read, and TCP's flow control holds the rest back in the engine.
    client.pipe(engine).pipe(client);
    client.on('error', () => engine.destroy());
    engine.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    dockerHost: `unix://${socket}`,
    paths: () => [...seen],
    release: () => {
      released = true;
      for (const resume of onRelease.splice(0)) resume();
    },
    close: () =>
      new Promise((resolve) => {
        for (const connection of connections) connection.destroy();
        server.close(() => resolve());
      }),
  };
}
