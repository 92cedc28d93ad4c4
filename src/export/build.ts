import { buildOutputLine } from '../docker/build-steps.js';
import type { DockerEngine } from '../docker/engine.js';
import type { DockerStreamEvent } from '../docker/json-stream.js';
import { buildContextStream } from './build-context.js';
import type { PlannedBuild } from './plan.js';

export interface BuildRequest {
  tags: string[];
  target?: string;
  cacheFrom?: string[];
  platform?: string;
}

/**
 * Builds one service (or one of its stages, with `target`) through the engine's classic builder: the context
 * streamed as a tar honouring .dockerignore, the service's dockerfile and build args. Returns the image ID;
 * a failure inside the build stream rejects with EDOCKER naming the failing step.
 */
export async function buildService(
  engine: DockerEngine,
  planned: PlannedBuild,
  request: BuildRequest,
  onLine?: (line: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  signal?.throwIfAborted();
  const context = await buildContextStream(planned.build.context, planned.build.dockerfile);
  const abort = () => context.destroy(new Error('aborted'));
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const target = request.target ?? planned.build.target;
    return await engine.buildImage(
      context,
      {
        tags: request.tags,
        dockerfile: planned.build.dockerfile,
        buildArgs: planned.build.args,
        ...(target !== undefined && { target }),
        ...(request.cacheFrom && { cacheFrom: request.cacheFrom }),
        ...(request.platform !== undefined && { platform: request.platform }),
      },
      (event: DockerStreamEvent) => {
        const line = buildOutputLine(event);
        if (line) onLine?.(line);
      },
    );
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
