export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The program was not found. */
  missing: boolean;
}

/**
 * Runs a program to completion, capturing its output; a missing program is reported, not thrown.
 * child_process is loaded on the first run (an import without --start runs no program), by
 * process.getBuiltinModule: offline.mjs compiles the CLI as a script, where import() of a module it does not
 * carry has no loader to go to.
 */
export function runTool(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolRun> {
  const { execFile } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve) => {
    execFile(
      program,
      [...args],
      { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const errno = (error as NodeJS.ErrnoException | null)?.code;
        resolve({
          code: error ? (typeof errno === 'number' ? errno : errno === 'ENOENT' ? 127 : 1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
          missing: errno === 'ENOENT',
        });
      },
    );
  });
}
