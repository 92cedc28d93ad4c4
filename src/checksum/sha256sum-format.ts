import { OfflineError } from '../errors.js';
import { assertSafeRelativePath } from '../fs/safe-path.js';

/** One line of a checksum list: a file's POSIX path relative to the list's folder, and its sha256. */
export interface ChecksumEntry {
  path: string;
  sha256: string;
  /** Known only from a structured manifest; sha256sum lists carry no size. */
  size?: number;
}

export interface ParsedChecksums {
  entries: ChecksumEntry[];
  /** Malformed, unsafe or duplicate lines; the good lines are still returned. */
  problems: OfflineError[];
  /** Tolerated oddities (CRLF line ends, a byte-order mark), for a warning. */
  notes: string[];
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
const BSD_TAG = /^SHA256 \((.*)\) = ([0-9a-fA-F]+)$/;

function unescapeName(name: string): string {
  return name.replace(/\\(\\|n|r)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

function escapeName(name: string): { escaped: boolean; name: string } {
  if (!/[\\\n\r]/.test(name)) return { escaped: false, name };
  return { escaped: true, name: name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r') };
}

/**
 * Parses GNU `sha256sum` output (`<hex>  <path>` or `<hex> *<path>`, with GNU's backslash escaping) and the
 * BSD tag form `SHA256 (<path>) = <hex>`. Every problem is collected, each with its line number.
 */
export function parseChecksums(text: string, source: string): ParsedChecksums {
  const entries: ChecksumEntry[] = [];
  const problems: OfflineError[] = [];
  const notes: string[] = [];
  const seen = new Map<string, number>();
  if (text.startsWith('\uFEFF')) {
    notes.push(`${source}: byte-order mark ignored`);
    text = text.slice(1);
  }
  if (text.includes('\r\n')) notes.push(`${source}: CRLF line ends read as LF`);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const bad = (why: string) =>
      problems.push(
        new OfflineError('EMANIFEST', `${source}:${lineNo}: ${why}`, {
          file: source,
          found: line.slice(0, 120),
        }),
      );
    if (line.trim() === '' || line.startsWith('#')) return;
    let hex: string;
    let name: string;
    const escaped = line.startsWith('\\');
    const body = escaped ? line.slice(1) : line;
    const tag = BSD_TAG.exec(body);
    if (tag) {
      name = tag[1] ?? '';
      hex = tag[2] ?? '';
    } else {
      const match = /^(\S+) [ *](.*)$/.exec(body);
      if (!match) {
        bad('not "<sha256>  <path>"');
        return;
      }
      hex = match[1] ?? '';
      name = match[2] ?? '';
    }
    if (!HEX64.test(hex)) {
      bad(`"${hex.slice(0, 70)}" is not a 64-digit hex sha256`);
      return;
    }
    if (escaped) name = unescapeName(name);
    let safe: string;
    try {
      safe = assertSafeRelativePath(name, `${source}:${lineNo}`);
    } catch (error) {
      problems.push(error as OfflineError);
      return;
    }
    const first = seen.get(safe);
    if (first !== undefined) {
      bad(`"${safe}" is listed twice (first on line ${first})`);
      return;
    }
    seen.set(safe, lineNo);
    entries.push({ path: safe, sha256: hex.toLowerCase() });
  });
  return { entries, problems, notes };
}

/** Serialises entries as GNU sha256sum text-mode lines, sorted by path bytes, ending with a newline. */
export function formatChecksums(entries: readonly ChecksumEntry[]): string {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return sorted
    .map((entry) => {
      const { escaped, name } = escapeName(entry.path);
      return `${escaped ? '\\' : ''}${entry.sha256}  ${name}\n`;
    })
    .join('');
}
