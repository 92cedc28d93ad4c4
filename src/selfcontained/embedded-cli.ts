/**
 * How offline.mjs carries its CLI: the CommonJS source in one block comment, the whole body of a function at the
 * end of the file. A comment costs the module's parse next to nothing, where the same text as a string literal
 * made every start-up slower (a re-import of the benchmark bundle: 379 ms as a string, 328 ms as a comment,
 * medians of 15). The loader takes the text back with the function's toString(), which V8 answers from the
 * module source Node already read: reading the 0.9 MB file again (as before) took 4-5 ms more of each start, and
 * the regular expression that undid the escapes another 2 ms (time marks in the loader, a re-import of the
 * import benchmark's bundle, 2 cores). A comment cannot hold the pair that ends it (star, slash), so the source
 * is escaped with U+0001: star U+0001 slash stands for star slash, U+0001 U+0002 for U+0001 itself.
 */
/** The function whose body carries the CLI (declared for the loader in build-defines.d.ts). */
export const CARRIER = 'offlineCliCarrier';
const MARKER = '/*offline-cli-commonjs\n';
const END = '*/';
const ESC = '\u0001';

/** The trailing function that carries `source`; the source must be ASCII (esbuild's default output). */
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
  return `function ${CARRIER}() {${MARKER}${escaped}${END}}\n`;
}

/**
 * The source embedCli put in `text` (the carrier's toString(), or the whole file read as latin1: it is ASCII),
 * or undefined. The first marker is the comment's: the loader before it prints its strings with escaped
 * newlines, and the source inside may hold the marker's text itself.
 */
export function extractCli(text: string): string | undefined {
  const start = text.indexOf(MARKER) + MARKER.length;
  const end = text.lastIndexOf(END);
  if (start < MARKER.length || end < start) return undefined;
  // U+0001 is only ever followed by a slash (an escaped END, star U+0001 slash) or by U+0002; there are a few
  // dozen, so slices joined around them, not a regular expression over the whole text.
  let source = '';
  let from = start;
  for (let at = text.indexOf(ESC, start); at >= 0 && at < end; at = text.indexOf(ESC, at + 2)) {
    source += text.slice(from, at) + (text[at + 1] === '/' ? '/' : ESC);
    from = at + 2;
  }
  return source + text.slice(from, end);
}
