import type { Readable } from 'node:stream';
import { OfflineError } from '../errors.js';

/** One object of the JSON progress stream the engine writes for build, pull, push and load. */
export interface DockerStreamEvent {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { ID?: string; Tag?: string; Digest?: string };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/**
 * Reads the engine's newline-delimited JSON stream to its end, calling onEvent for each object, and rejects
 * with EDOCKER on the first object that carries an error. The engine answers 200 and reports failures inside
 * the stream, so every object must be checked (dockerode's followProgress does not).
 */
export async function followJsonStream(
  stream: Readable,
  what: string,
  onEvent: (event: DockerStreamEvent) => void = () => {},
): Promise<DockerStreamEvent[]> {
  const events: DockerStreamEvent[] = [];
  let pending = '';
  let failure: OfflineError | undefined;
  const handle = (line: string) => {
    if (line.trim() === '') return;
    let event: DockerStreamEvent;
    try {
      event = JSON.parse(line) as DockerStreamEvent;
    } catch {
      event = { stream: line };
    }
    events.push(event);
    if ((event.error || event.errorDetail?.message) && !failure) {
      const message = (event.errorDetail?.message ?? event.error ?? '').trim();
      failure = new OfflineError('EDOCKER', `${what}: ${message}`, { file: what });
    }
    onEvent(event);
  };
  for await (const chunk of stream) {
    pending += (chunk as Buffer).toString('utf8');
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    lines.forEach(handle);
  }
  handle(pending);
  if (failure) throw failure;
  return events;
}
