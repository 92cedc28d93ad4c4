import { Listr, ListrLogger, type ListrTask, ProcessOutput } from 'listr2';
import type { Output } from './output.js';

/**
 * A listr2 task list that renders on stderr: the live renderer on a TTY, plain lines otherwise, nothing
 * under test (OFFLINE_SILENT=1).
 */
export function createTaskList<Ctx extends object>(tasks: ListrTask<Ctx>[], output: Output): Listr<Ctx> {
  const silent = process.env.OFFLINE_SILENT === '1';
  // Renderers write through their logger; one bound to stderr keeps stdout for the --json result.
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  const logger = new ListrLogger({ processOutput });
  return new Listr<Ctx>(tasks, {
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: false,
    renderer: 'default',
    fallbackRenderer: 'simple',
    silentRendererCondition: silent,
    fallbackRendererCondition: () => !process.stderr.isTTY || output.debug,
    rendererOptions: { processOutput, logger },
    fallbackRendererOptions: { processOutput, logger },
  } as never);
}
