import { OfflineError } from '../errors.js';
import { type ProgressFactory, ProgressLine } from './progress-line.js';

/** How a command talks to the user: results on stdout (JSON with --json), everything else on stderr. */
export interface Output {
  readonly json: boolean;
  readonly debug: boolean;
  /** A progress or diagnostic line, on stderr. */
  info(message: string): void;
  warn(message: string): void;
  /**
   * A progress line for reading `total` bytes (unknown: undefined), on stderr; info and warn take it off a
   * terminal before their line. Optional: an Output without it shows no progress.
   */
  progress?: ProgressFactory;
}

export function createOutput(options: { json?: boolean; debug?: boolean }): Output {
  let active: ProgressLine | undefined;
  const line = (text: string) => {
    active?.clear();
    process.stderr.write(`${text}\n`);
  };
  return {
    json: Boolean(options.json),
    debug: Boolean(options.debug),
    info: (message) => line(message),
    warn: (message) => line(`warning: ${message}`),
    progress: (label, total) => {
      active?.done();
      active = new ProgressLine(label, total, {
        isTTY: Boolean(process.stderr.isTTY),
        write: (text) => process.stderr.write(text),
      });
      return active;
    },
  };
}

/** What a command returns: a JSON-able result and the lines a person reads instead. */
export interface CommandResult {
  data: Record<string, unknown>;
  summary: string[];
}

export function printResult(output: Output, command: string, result: CommandResult): void {
  if (output.json) {
    process.stdout.write(`${JSON.stringify({ ok: true, command, ...result.data }, null, 2)}\n`);
  } else {
    for (const line of result.summary) process.stdout.write(`${line}\n`);
  }
}

/** With --json, a usage error that commander already told on stderr also gets its one JSON object on stdout. */
export function printUsageErrorJson(message: string): void {
  const error = { code: 'EUSAGE', message: message.replace(/^error: /, '') };
  process.stdout.write(`${JSON.stringify({ ok: false, command: 'offline', error }, null, 2)}\n`);
}

/** One clear line per problem on stderr; the JSON error on stdout with --json; the stack only with --debug. */
export function printError(output: Output, command: string, error: unknown): void {
  if (error instanceof OfflineError) {
    const problems = error.problems.length > 0 ? error.problems : [error];
    if (error.problems.length > 0) process.stderr.write(`error: ${error.describe()}\n`);
    for (const problem of problems) process.stderr.write(`error: ${problem.describe()}\n`);
    if (output.json) {
      process.stdout.write(`${JSON.stringify({ ok: false, command, error: error.toJSON() }, null, 2)}\n`);
    }
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    if (output.json) {
      process.stdout.write(
        `${JSON.stringify({ ok: false, command, error: { code: 'EINTERNAL', message } }, null, 2)}\n`,
      );
    }
  }
  if (output.debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else if (!(error instanceof OfflineError))
    process.stderr.write('(run again with --debug for the stack trace)\n');
}
