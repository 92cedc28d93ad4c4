/**
 * YAML parsing, with the yaml package loaded on first use: it costs ~100 ms to load, which commands that read
 * no YAML (import, verify, inspect, checksum, --help) should not pay at start-up.
 */
export async function parseYaml(text: string): Promise<unknown> {
  const { parse } = await import('yaml');
  return parse(text);
}
