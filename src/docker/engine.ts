import type { Readable } from 'node:stream';
import type { DockerStreamEvent } from './json-stream.js';

/** What the tool needs of a Docker engine. Built once by connectDocker(); tests pass a fake. */
export interface DockerEngine {
  /** Where the engine was found, for messages. */
  readonly address: string;
  version(): Promise<EngineVersion>;
  /** undefined when the image does not exist. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Every image, untagged parents included (`docker images -a`); os and architecture are left empty. */
  listImages(): Promise<ImageInfo[]>;
  /** `docker import` of a root file system tarball; returns the new image ID. */
  importImage(rootfs: Readable, ref: string, changes?: string[]): Promise<string>;
  /** Classic builder; returns the built image ID. Errors inside the build stream reject with the failing step. */
  buildImage(
    context: Readable,
    options: BuildOptions,
    onEvent?: (event: DockerStreamEvent) => void,
  ): Promise<string>;
  pullImage(
    ref: string,
    options?: { platform?: string },
    onEvent?: (event: DockerStreamEvent) => void,
  ): Promise<void>;
  /** One multi-image `docker save`: shared layers are stored once. */
  saveImages(refs: readonly string[]): Promise<Readable>;
  /** `docker load`; every stream object is checked. Returns the "Loaded image" lines' names and IDs. */
  loadImages(archive: Readable, onEvent?: (event: DockerStreamEvent) => void): Promise<string[]>;
  tagImage(ref: string, repo: string, tag: string): Promise<void>;
  removeImage(ref: string, options?: { force?: boolean }): Promise<void>;
  pushImage(ref: string, onEvent?: (event: DockerStreamEvent) => void): Promise<void>;
  /** Containers carrying a label (e.g. com.docker.compose.project=NAME), running or not. */
  listContainers(label: string): Promise<ContainerState[]>;
  /** The last lines of a container's combined output. */
  containerLogs(id: string, tail: number): Promise<string>;
  /** Runs a container to completion and returns its exit code and combined output. */
  runContainer(
    image: string,
    command: string[],
    options?: RunOptions,
  ): Promise<{ exitCode: number; output: string }>;
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
  /** The engine's data root (DockerRootDir), where loads land. */
  rootDir: string;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  os: string;
  architecture: string;
  variant?: string;
  size: number;
  /** Labels from the image config. */
  labels: Record<string, string>;
  /** The image's ONBUILD triggers (what a build FROM it runs first), when it has any; only from inspectImage. */
  onBuild?: string[];
}

export interface BuildOptions {
  tags: string[];
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  cacheFrom?: string[];
  labels?: Record<string, string>;
  platform?: string;
  /** Always try to pull a newer base (off by default: bases come from the local store). */
  pull?: boolean;
  noCache?: boolean;
}

export interface RunOptions {
  env?: string[];
  binds?: string[];
  networkMode?: string;
  user?: string;
}

export interface ContainerState {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** created, running, exited, restarting... */
  state: string;
  /** healthy, unhealthy, starting; undefined without a health check. */
  health?: string;
  exitCode: number;
  /** When the engine last started it (RFC 3339), so a restart shows as a new time. */
  startedAt: string;
}
