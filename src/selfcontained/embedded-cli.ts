/**
 * How offline.mjs carries its CLI: the CommonJS source in one block comment at the end of the file, after a
 * marker line. A comment costs the module's parse next to nothing, where the same text as a string literal
 * made every start-up slower (a re-import of the benchmark bundle: 379 ms as a string, 328 ms as a comment,
 * medians of 15). A comment cannot hold the pair that ends it (star, slash), so the source is escaped with
 * U+0001: star U+0001 slash stands for star slash, U+0001 U+0002 for U+0001 itself.
 */
const MARKER = '/*offline-cli-commonjs\n';
const END = '*/';
const ESC = '\u0001';
/** An escape: U+0001 and the character after it, a slash or U+0002. */
const ESCAPED = new RegExp(`${ESC}([/\u0002])`, 'g');

/** The trailing comment that carries `source`; the source must be ASCII (esbuild's default output). */
export function embedCli(source: string): string {
  // ASCII exactly when each character is one UTF-8 byte.
  if (Buffer.byteLength(source) !== source.length) {
    const bad = [...source].findIndex((c) => (c.codePointAt(0) ?? 0) > 0x7f);
    throw new Error(
      `embedCli: the CLI source must be ASCII (esbuild charset: ascii); found ${JSON.stringify(source.slice(bad - 60, bad + 10))}`,
    );
  }
  // U+0001 first, so that afterwards every U+0001 followed by a slash is an escaped END.
  const escaped = source.split(ESC).join(`${ESC}\u0002`).split(END).join(`*${ESC}/`);
  return `${MARKER}${escaped}${END}\n`;
}

/**
 * The source embedCli put at the end of `fileText` (read as latin1: the file is ASCII), or undefined. The
 * first marker is the comment's: the loader before it prints its strings with escaped newlines, and the
 * source inside may hold the marker's text itself.
 */
export function extractCli(fileText: string): string | undefined {
  const start = fileText.indexOf(MARKER);
  const end = fileText.lastIndexOf(END);
  if (start < 0 || end < start + MARKER.length) return undefined;
  // One pass: U+0001 is only ever followed by a slash (an escaped END, star U+0001 slash) or by U+0002.
  return fileText
    .slice(start + MARKER.length, end)
    .replace(ESCAPED, (_, next: string) => (next === '/' ? '/' : ESC));
}
