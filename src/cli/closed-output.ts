/**
 * Output nobody reads any more must not end a command half-way. `offline inspect x | head -1` closes the pipe
 * (EPIPE), a closed terminal or ssh session fails every write (EIO): Node then raises an 'error' event on
 * process.stdout or stderr, and with no listener the process dies at once, an import or its undo unfinished.
 *
 * From here on such write errors are dropped and the command runs to its end. A result that could not be
 * written to stdout for another reason (a full disk under `--json > result.json`) turns a success into exit 1:
 * the caller did not get it. A reader that went away on purpose (EPIPE) changes no exit code.
 */
export function keepRunningWhenOutputCloses(): void {
  let lost: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') lost ??= error;
  });
  process.stderr.on('error', () => {});
  process.once('exit', () => {
    if (!lost) return;
    process.stderr.write(`error: the result could not be written to stdout: ${lost.code ?? lost.message}\n`);
    if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = 1;
  });
}
