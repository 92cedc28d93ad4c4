import { execFile } from 'node:child_process';

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The program was not found. */
  missing: boolean;
}

/** Runs a program to completion, capturing its output; a missing program is reported, not thrown. */
export function runTool(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolRun> {
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
