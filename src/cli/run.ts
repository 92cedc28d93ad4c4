import type { Command } from 'commander';
import { exitCodeFor } from '../errors.js';
import { type CommandResult, createOutput, type Output, printError, printResult } from './output.js';

/**
 * Wraps a command's action: builds the Output from the global flags, prints the result or the error, and
 * sets the exit code from the outcome (0 ok, 2 usage, 3 integrity, 4 engine unreachable, 1 otherwise).
 */
export function action<Args extends unknown[]>(
  handler: (output: Output, ...args: Args) => Promise<CommandResult>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const globals = command.optsWithGlobals<{ json?: boolean; debug?: boolean }>();
    const output = createOutput(globals);
    const name = commandPath(command);
    try {
      const result = await handler(output, ...(args.slice(0, -1) as Args));
      printResult(output, name, result);
      process.exitCode = 0;
    } catch (error) {
      printError(output, name, error);
      process.exitCode = exitCodeFor(error);
    }
  };
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
