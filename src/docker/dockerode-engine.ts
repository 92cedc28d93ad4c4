import { PassThrough, type Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { OfflineError } from '../errors.js';
import type {
  BuildOptions,
  ContainerState,
  DockerEngine,
  EngineVersion,
  ImageInfo,
  RunOptions,
} from './engine.js';
import { type DockerStreamEvent, followJsonStream } from './json-stream.js';

interface HttpError {
  statusCode?: number;
  json?: { message?: string };
  message: string;
}

function isNotFound(error: unknown): boolean {
  return (error as HttpError)?.statusCode === 404;
}

function engineError(what: string, error: unknown): OfflineError {
  if (error instanceof OfflineError) return error;
  const http = error as HttpError;
  const message = (http.json?.message ?? http.message ?? String(error)).trim();
  return new OfflineError('EDOCKER', `${what}: ${message}`, { file: what, cause: error });
}

function toImageInfo(raw: Dockerode.ImageInspectInfo): ImageInfo {
  const variant = (raw as { Variant?: string }).Variant;
  const onBuild = raw.Config?.OnBuild ?? [];
  return {
    id: raw.Id,
    repoTags: (raw.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    os: raw.Os,
    architecture: raw.Architecture,
    ...(variant ? { variant } : {}),
    size: raw.Size,
    labels: raw.Config?.Labels ?? {},
    ...(onBuild.length > 0 && { onBuild }),
  };
}

/** The dockerode implementation of DockerEngine. Create it with connectDocker(). */
export class DockerodeEngine implements DockerEngine {
  constructor(
    private readonly docker: Dockerode,
    readonly address: string,
  ) {}

  async version(): Promise<EngineVersion> {
    const [version, info] = await Promise.all([this.docker.version(), this.docker.info()]);
    return {
      version: version.Version,
      apiVersion: version.ApiVersion,
      os: version.Os,
      arch: version.Arch,
      rootDir: (info as { DockerRootDir?: string }).DockerRootDir ?? '/var/lib/docker',
    };
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      return toImageInfo(await this.docker.getImage(ref).inspect());
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw engineError(`inspect ${ref}`, error);
    }
  }

  async listImages(): Promise<ImageInfo[]> {
    const list = await this.docker.listImages({ all: true });
    return list.map((image) => ({
      id: image.Id,
      repoTags: (image.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      os: '',
      architecture: '',
      size: image.Size,
      labels: image.Labels ?? {},
    }));
  }

  async importImage(rootfs: Readable, ref: string, changes: string[] = []): Promise<string> {
    const [repo, tag] = splitRef(ref);
    try {
      const stream = (await this.docker.importImage(rootfs as never, {
        repo,
        tag,
        ...(changes.length ? { changes } : {}),
      })) as unknown as Readable;
      await followJsonStream(stream, `import ${ref}`);
    } catch (error) {
      throw engineError(`import ${ref}`, error);
    }
    const info = await this.inspectImage(ref);
    if (!info) throw new OfflineError('EDOCKER', `import ${ref}: image missing after import`, { file: ref });
    return info.id;
  }

  async buildImage(
    context: Readable,
    options: BuildOptions,
    onEvent?: (event: DockerStreamEvent) => void,
  ): Promise<string> {
    const what = `build ${options.tags[0] ?? options.dockerfile ?? 'image'}`;
    let imageId: string | undefined;
    let lastStep = '';
    try {
      const query = withoutUndefined({
        t: options.tags,
        dockerfile: options.dockerfile,
        buildargs: options.buildArgs,
        target: options.target,
        cachefrom: options.cacheFrom ? JSON.stringify(options.cacheFrom) : undefined,
        labels: options.labels,
        platform: options.platform,
        pull: options.pull ? '1' : undefined,
        nocache: options.noCache,
        rm: true,
        forcerm: true,
        version: '1',
      });
      const stream = (await this.docker.buildImage(context as never, query as never)) as unknown as Readable;
      await followJsonStream(stream, what, (event) => {
        if (event.stream?.startsWith('Step ')) lastStep = event.stream.trim();
        if (event.aux?.ID) imageId = event.aux.ID;
        onEvent?.(event);
      });
    } catch (error) {
      const failure = engineError(what, error);
      if (lastStep && failure.code === 'EDOCKER') {
        throw new OfflineError('EDOCKER', `${failure.message} (at ${lastStep})`, {
          file: failure.file,
          cause: error,
        });
      }
      throw failure;
    }
    if (!imageId) {
      const tagged = options.tags[0] ? await this.inspectImage(options.tags[0]) : undefined;
      imageId = tagged?.id;
    }
    if (!imageId) throw new OfflineError('EDOCKER', `${what}: the engine reported no image ID`);
    return imageId;
  }

  async pullImage(
    ref: string,
    options: { platform?: string } = {},
    onEvent?: (event: DockerStreamEvent) => void,
  ): Promise<void> {
    try {
      const stream = (await this.docker.pull(
        ref,
        options.platform ? { platform: options.platform } : {},
      )) as Readable;
      await followJsonStream(stream, `pull ${ref}`, onEvent);
    } catch (error) {
      throw engineError(`pull ${ref}`, error);
    }
  }

  async saveImages(refs: readonly string[]): Promise<Readable> {
    try {
      return (await (this.docker as unknown as DockerodeWithSave).getImages({
        names: [...refs],
      })) as Readable;
    } catch (error) {
      throw engineError(`save ${refs.join(' ')}`, error);
    }
  }

  async loadImages(archive: Readable, onEvent?: (event: DockerStreamEvent) => void): Promise<string[]> {
    const loaded: string[] = [];
    // docker-modem pipes the archive into the request body but does not end the request when the archive
    // fails part-way (a damaged bundle): the engine would wait for the rest forever. Abort the request then,
    // and report the archive's own error.
    const controller = new AbortController();
    let sourceError: Error | undefined;
    const onError = (error: Error) => {
      sourceError ??= error;
      controller.abort(error);
    };
    const onClose = () => {
      if (!archive.readableEnded) onError(new Error('the image archive stream closed before its end'));
    };
    archive.on('error', onError);
    archive.on('close', onClose);
    // It may have failed already, before these listeners (a small damaged bundle is read to its end at once).
    if (archive.destroyed) onError(archive.errored ?? new Error('the image archive stream was destroyed'));
    try {
      controller.signal.throwIfAborted();
      const stream = (await this.docker.loadImage(
        archive as never,
        { quiet: true, abortSignal: controller.signal } as never,
      )) as unknown as Readable;
      await followJsonStream(stream, 'load', (event) => {
        const match = /Loaded image(?: ID)?: (\S+)/.exec(event.stream ?? '');
        if (match?.[1]) loaded.push(match[1]);
        onEvent?.(event);
      });
    } catch (error) {
      if (sourceError) throw sourceError;
      throw engineError('load', error);
    } finally {
      archive.off('error', onError);
      archive.off('close', onClose);
    }
    if (sourceError) throw sourceError;
    return loaded;
  }

  async tagImage(ref: string, repo: string, tag: string): Promise<void> {
    try {
      await this.docker.getImage(ref).tag({ repo, tag });
    } catch (error) {
      throw engineError(`tag ${ref} ${repo}:${tag}`, error);
    }
  }

  async removeImage(ref: string, options: { force?: boolean } = {}): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ force: options.force ?? false });
    } catch (error) {
      if (isNotFound(error)) return;
      throw engineError(`remove ${ref}`, error);
    }
  }

  async pushImage(ref: string, onEvent?: (event: DockerStreamEvent) => void): Promise<void> {
    try {
      const stream = (await this.docker
        .getImage(ref)
        .push({ authconfig: {} } as never)) as unknown as Readable;
      await followJsonStream(stream, `push ${ref}`, onEvent);
    } catch (error) {
      throw engineError(`push ${ref}`, error);
    }
  }

  async listContainers(label: string): Promise<ContainerState[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [label] } });
    return Promise.all(
      list.map(async (summary) => {
        const info = await this.docker.getContainer(summary.Id).inspect();
        const health = (info.State as { Health?: { Status?: string } }).Health?.Status;
        return {
          id: summary.Id,
          name: (summary.Names[0] ?? summary.Id).replace(/^\//, ''),
          labels: summary.Labels ?? {},
          state: info.State.Status,
          ...(health && { health }),
          exitCode: info.State.ExitCode,
          startedAt: info.State.StartedAt,
        };
      }),
    );
  }

  async containerLogs(id: string, tail: number): Promise<string> {
    const raw = (await this.docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    return demuxLogs(raw);
  }

  async runContainer(
    image: string,
    command: string[],
    options: RunOptions = {},
  ): Promise<{ exitCode: number; output: string }> {
    const container = await this.docker.createContainer({
      Image: image,
      Cmd: command,
      Env: options.env,
      User: options.user,
      HostConfig: { Binds: options.binds, NetworkMode: options.networkMode ?? 'none' },
    });
    try {
      const output = new PassThrough();
      const chunks: Buffer[] = [];
      output.on('data', (chunk: Buffer) => chunks.push(chunk));
      const attach = await container.attach({ stream: true, stdout: true, stderr: true });
      container.modem.demuxStream(attach, output, output);
      await container.start();
      const result = (await container.wait()) as { StatusCode: number };
      (attach as unknown as Readable).destroy();
      return { exitCode: result.StatusCode, output: Buffer.concat(chunks).toString('utf8') };
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  }
}

/** Strips the 8-byte stream headers of a non-TTY container's log output. */
function demuxLogs(raw: Buffer): string {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length && (raw[offset] === 1 || raw[offset] === 2) && raw[offset + 1] === 0) {
    const size = raw.readUInt32BE(offset + 4);
    out.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return (offset === 0 ? raw : Buffer.concat(out)).toString('utf8');
}

/** dockerode has getImages (multi-image save) but its types do not list it. */
interface DockerodeWithSave {
  getImages(options: { names: string[] }): Promise<unknown>;
}

/** Query parameters for the engine: undefined and empty arrays left out rather than sent as empty strings. */
function withoutUndefined(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(query).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
}

/** "repo:tag" -> [repo, tag]; a colon inside a registry host:port is not a tag separator. */
export function splitRef(ref: string): [string, string] {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return [name.slice(0, colon), name.slice(colon + 1)];
  return [name, 'latest'];
}
