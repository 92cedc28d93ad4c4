import type { Command } from 'commander';
import { OfflineError } from '../../errors.js';
import { DEADLINE_VARIABLE, parseDuration } from '../../tiktoken/deadline.js';
import { FETCH_HINTS } from '../../tiktoken/hints.js';
import type { CachedFile } from '../../tiktoken/prefetch.js';
import { DEFAULT_ENCODINGS } from '../../tiktoken/registry.js';
import { interruptible } from '../interrupt.js';
import { positiveWholeNumber } from '../option-values.js';
import { action } from '../run.js';

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function registerTiktoken(program: Command): void {
  const tiktoken = program
    .command('tiktoken')
    .description('prefetch tiktoken encodings into a cache that tiktoken and tiktoken-go find offline')
    .addHelpText(
      'after',
      '\nExample:\n  offline tiktoken fetch --out ./tiktoken-cache --encodings cl100k_base,o200k_base\n  offline tiktoken verify ./tiktoken-cache   # then run the app with TIKTOKEN_CACHE_DIR=<that folder>',
    );

  tiktoken
    .command('fetch')
    .description('download (or copy --from) the encodings, each verified against its pinned sha256')
    .requiredOption('-o, --out <dir>', 'cache folder (point TIKTOKEN_CACHE_DIR at it)')
    .option(
      '--encodings <list>',
      'encodings, aliases or model names, comma-separated',
      DEFAULT_ENCODINGS.join(','),
    )
    .option('--concurrency <n>', 'downloads at once', '4')
    .option('--base-url <url>', 'a mirror with the same paths (also OFFLINE_TIKTOKEN_BASE_URL)')
    .option(
      '--from <dir>',
      'take files already on disk (sha1 names as tiktoken writes them, or cl100k_base.tiktoken...)',
    )
    .option(
      '--deadline <duration>',
      `limit on the whole fetch, e.g. 30m (also ${DEADLINE_VARIABLE}; default 10m)`,
    )
    .addHelpText(
      'after',
      '\nExample:\n  offline tiktoken fetch --out ./tiktoken-cache --encodings cl100k_base,gpt-4o',
    )
    .action(
      action(
        async (
          output,
          flags: {
            out: string;
            encodings: string;
            concurrency: string;
            baseUrl?: string;
            from?: string;
            deadline?: string;
          },
        ) => {
          const concurrency = positiveWholeNumber('--concurrency', flags.concurrency);
          const encodings = flags.encodings
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean);
          const deadlineMs =
            flags.deadline === undefined ? undefined : parseDuration(flags.deadline, '--deadline');
          const [{ makeOutputFolder }, { prefetchTiktoken }, { createTaskList }] = await Promise.all([
            import('../../fs/output-folder.js'),
            import('../../tiktoken/prefetch.js'),
            import('../tasks.js'),
          ]);
          await makeOutputFolder(flags.out, '--out');
          let files: CachedFile[] = [];
          const progress = new Map<string, string>();
          let shown = 0;
          const warnings: string[] = [];
          await interruptible(output, 'stopping and removing partial files', (signal) =>
            createTaskList<object>(
              [
                {
                  title: `Fetch tiktoken files for ${encodings.join(', ')}`,
                  task: async (_ctx, task) => {
                    files = await prefetchTiktoken({
                      outDir: flags.out,
                      encodings,
                      concurrency,
                      ...(flags.baseUrl && { baseUrl: flags.baseUrl }),
                      ...(flags.from && { fromDir: flags.from }),
                      ...(deadlineMs !== undefined && { deadlineMs }),
                      signal,
                      hints: FETCH_HINTS,
                      onEvent: (message) => {
                        task.output = message;
                      },
                      onWarn: (message) => {
                        warnings.push(message);
                        task.output = message;
                      },
                      onProgress: (file, bytes) => {
                        progress.set(file.plainName, `${file.plainName} ${mib(bytes)}/${mib(file.size)}`);
                        // at most one progress line a second: plain (non-TTY) output prints each one
                        if (Date.now() - shown < 1000 && bytes < file.size) return;
                        shown = Date.now();
                        task.output = [...progress.values()].join('  ');
                      },
                    });
                  },
                },
              ],
              output,
            ).run(),
          );
          return {
            data: { dir: flags.out, files },
            summary: [
              ...warnings.map((w) => `warning: ${w}`),
              ...files.map((f) => `${f.file}  ${f.name} (${f.encoding}, ${f.source})`),
              `set TIKTOKEN_CACHE_DIR=${flags.out}`,
            ],
          };
        },
      ),
    );

  tiktoken
    .command('verify')
    .description('check every file of a cache folder against its pinned sha256; exit 3 on any problem')
    .argument('<dir>', 'cache folder written by tiktoken fetch')
    .addHelpText('after', '\nExample:\n  offline tiktoken verify ./tiktoken-cache --json')
    .action(
      action(async (_output, dir: string) => {
        const { verifyTiktokenCache } = await import('../../tiktoken/verify-cache.js');
        const result = await verifyTiktokenCache(dir);
        if (result.problems.length > 0) {
          throw new OfflineError(
            result.problems[0]?.code ?? 'EINTEGRITY',
            `${dir}: ${result.problems.length} problem(s)`,
            {
              file: dir,
              problems: result.problems,
            },
          );
        }
        return {
          data: { dir, files: result.verified },
          summary: [`${dir}: ${result.verified.length} files verified`],
        };
      }),
    );
}
