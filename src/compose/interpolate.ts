/**
 * Compose-style variable substitution for the YAML-only fallback: $VAR, ${VAR}, ${VAR:-default},
 * ${VAR-default}, ${VAR:?err} / ${VAR?err} (left empty) and $$ for a literal dollar.
 */
export function interpolate(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      match,
      braced: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (match === '$$') return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      if (op === ':-') return value === undefined || value === '' ? (arg ?? '') : value;
      if (op === '-') return value === undefined ? (arg ?? '') : value;
      return value ?? '';
    },
  );
}
