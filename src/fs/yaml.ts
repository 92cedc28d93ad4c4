/**
 * YAML parsing, with the yaml package loaded on first use: it costs ~100 ms to load, which commands that read
 * no YAML (import, verify, inspect, checksum, --help) should not pay at start-up.
 */
export async function parseYaml(text: string): Promise<unknown> {
  const { parse } = await import('yaml');
  try {
    return parse(text);
  } catch (error) {
    // The yaml package's message goes on with the offending lines, for a one-line error only the first counts.
    const first = ((error as Error).message ?? String(error)).split('\n')[0]?.replace(/:\s*$/, '');
    throw new Error(first, { cause: error });
  }
}
