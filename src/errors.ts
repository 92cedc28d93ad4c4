/**
 * One error type for everything the tool reports to a user. Each carries a stable code that tests match on,
 * the file it concerns, and the expected and found values where a comparison failed.
 */
export type ErrorCode =
  | 'EUSAGE' // bad command-line arguments or definition file
  | 'EINTEGRITY' // a hash differs
  | 'EBADSIZE' // a size differs
  | 'EMISSING' // a listed file is missing
  | 'EUNLISTED' // a file is present but not listed
  | 'EMANIFEST' // a manifest or checksum list is malformed
  | 'EUNSAFE_PATH' // a path escapes its root (absolute, `..`, link out, device)
  | 'EDOCKER_UNREACHABLE' // no Docker engine answered
  | 'EDOCKER' // the engine answered with an error (build, pull, load...)
  | 'ECOMPOSE' // the compose tool failed or the compose file is unusable
  | 'EDOWNLOAD' // a download failed after its retries
  | 'EFORMAT' // a bundle of an unknown or incompatible format
  | 'EPLATFORM' // image platform does not match the engine
  | 'ENOSPACE' // not enough free disk
  | 'EEXIST' // would overwrite a user's file
  | 'ESECRET' // a stack file looks like it holds secrets
  | 'EREGISTRY' // a registry answered with an error
  | 'EAUTH' // a registry refused the credentials, or wants some
  | 'ETIMEOUT' // something did not finish in time
  | 'ESTART' // the stack did not become healthy
  | 'EINTERNAL';

export interface ErrorDetails {
  /** The file (or image, or URL) the error is about. */
  file?: string;
  expected?: string | number;
  found?: string | number;
  /** What the user can do about it. */
  hint?: string;
  /** For aggregate errors: every problem found, each with its own code. */
  problems?: OfflineError[];
  cause?: unknown;
}

export class OfflineError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly expected?: string | number;
  readonly found?: string | number;
  readonly hint?: string;
  readonly problems: OfflineError[];

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'OfflineError';
    this.code = code;
    this.file = details.file;
    this.expected = details.expected;
    this.found = details.found;
    this.hint = details.hint;
    this.problems = details.problems ?? [];
  }

  /** The one line a user reads: what, where, expected/found, what to do. */
  describe(): string {
    const parts = [`${this.code}: ${this.message}`];
    const compared = [
      ...(this.expected === undefined ? [] : [`expected ${String(this.expected).trim()}`]),
      ...(this.found === undefined ? [] : [`found ${String(this.found).trim()}`]),
    ];
    if (compared.length > 0) parts.push(`(${compared.join(', ')})`);
    if (this.hint) parts.push(`- ${this.hint}`);
    // A message may go on over lines of its own (ESTART's last log lines); the values compared are trimmed.
    return parts.join(' ');
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.file !== undefined && { file: this.file }),
      ...(this.expected !== undefined && { expected: this.expected }),
      ...(this.found !== undefined && { found: this.found }),
      ...(this.hint !== undefined && { hint: this.hint }),
      ...(this.problems.length > 0 && { problems: this.problems.map((p) => p.toJSON()) }),
    };
  }
}

/** Documented exit codes: 0 ok, 1 anything else, 2 usage, 3 integrity, 4 Docker engine unreachable. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  integrity: 3,
  dockerUnreachable: 4,
} as const;

const integrityCodes = new Set<ErrorCode>([
  'EINTEGRITY',
  'EBADSIZE',
  'EMISSING',
  'EUNLISTED',
  'EMANIFEST',
  'EUNSAFE_PATH',
  'EFORMAT',
]);

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof OfflineError)) return ExitCode.failure;
  if (error.code === 'EUSAGE') return ExitCode.usage;
  if (error.code === 'EDOCKER_UNREACHABLE') return ExitCode.dockerUnreachable;
  if (integrityCodes.has(error.code)) return ExitCode.integrity;
  return ExitCode.failure;
}

export function isOfflineError(error: unknown, code?: ErrorCode): error is OfflineError {
  return error instanceof OfflineError && (code === undefined || error.code === code);
}
