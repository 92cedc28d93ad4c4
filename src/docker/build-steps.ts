import { stripVTControlCharacters } from 'node:util';
import type { DockerStreamEvent } from './json-stream.js';

/** One `Step n/m : ...` of a classic-builder build, as its output told it. */
export interface BuildStep {
  /** The instruction as the builder printed it (`COPY src/ /src/`). */
  instruction: string;
  /** The image the step left (the 12-hex ID of its `---> <id>` line); none for an ARG before the first FROM. */
  id?: string;
  /** The builder said `---> Using cache`: the image came from a cache, not from running the step. */
  cached: boolean;
}

const STEP = /^Step \d+\/\d+ : (.*)$/;
const IMAGE = /^---> ([0-9a-f]{12})$/;

/**
 * The text of one build output event, trimmed and without the colour codes the engine wraps a RUN step's
 * stderr in (ESC[91m ... ESC[0m); undefined when nothing is left.
 */
export function buildOutputLine(event: DockerStreamEvent): string | undefined {
  return event.stream === undefined ? undefined : stripVTControlCharacters(event.stream).trim() || undefined;
}

/**
 * Follows the classic builder's output lines (trimmed `stream` text) and records each step with the image it
 * left: the engine reports no other way which image a step made or took from the cache.
 */
export class BuildStepRecorder {
  readonly steps: BuildStep[] = [];

  /** A build's event listener: records each output line, and passes it on to `onLine`. */
  listener(onLine?: (line: string) => void): (event: DockerStreamEvent) => void {
    return (event) => {
      const line = buildOutputLine(event);
      if (!line) return;
      this.line(line);
      onLine?.(line);
    };
  }

  line(line: string): void {
    const step = STEP.exec(line);
    if (step) {
      this.steps.push({ instruction: step[1] as string, cached: false });
      return;
    }
    const current = this.steps.at(-1);
    if (!current) return;
    if (line === '---> Using cache') {
      current.cached = true;
      return;
    }
    const image = IMAGE.exec(line);
    if (image) current.id = image[1] as string;
  }

  /** The images the steps left, in order, FROM steps (the base or an earlier stage, not made here) left out. */
  images(): string[] {
    return this.steps.flatMap((s) => (s.id !== undefined && !isFrom(s) ? [s.id] : []));
  }

  /**
   * Steps from the cache whose image was not made by running a step of an earlier build of the same rebuild
   * (`made`): the builder says "Using cache" for those too.
   */
  cachedExcept(made: ReadonlySet<string>): number {
    return this.steps.filter((s) => s.cached && !(s.id !== undefined && made.has(s.id))).length;
  }

  /**
   * Steps a cache can answer: all but the FROM steps and the ARG steps before the first FROM, which the builder
   * runs every time (they make no image of their own).
   */
  cacheable(): number {
    const firstFrom = this.steps.findIndex(isFrom);
    return this.steps.filter((s, i) => firstFrom >= 0 && i > firstFrom && !isFrom(s)).length;
  }

  /**
   * The image each stage of the build ended with, in Dockerfile order: the image its last step left (a stage
   * of a FROM line alone: the image it starts from). The classic builder builds every stage up to the target,
   * used or not, so there is one per stage up to it.
   */
  stageImages(): string[] {
    const images: string[] = [];
    for (const step of this.steps) {
      if (isFrom(step)) images.push('');
      if (images.length > 0 && step.id !== undefined) images[images.length - 1] = step.id;
    }
    return images;
  }

  /** The images steps made by running (not taken from a cache). */
  built(): string[] {
    return this.steps.flatMap((s) => (s.id !== undefined && !s.cached && !isFrom(s) ? [s.id] : []));
  }
}

function isFrom(step: BuildStep): boolean {
  return /^from\s/i.test(step.instruction);
}
