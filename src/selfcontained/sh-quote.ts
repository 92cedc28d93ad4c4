/** Quotes a value for POSIX sh: single quotes, with each ' written as '\''. */
export function shQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
