import type { CommandResult } from '../cli/output.js';
import type { ExportResult } from './run-export.js';

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** The --json result and the lines a person reads after an export. */
export function exportSummary(result: ExportResult): CommandResult {
  const { state, packed, verified } = result;
  const { options } = state;
  const imageBytes = state.images.reduce((sum, i) => sum + i.size, 0);
  const sizes = {
    bundle: packed.size,
    imagesArchive: state.imagesArchive?.size ?? 0,
    buildCacheArchive: state.cacheArchive?.size ?? 0,
    imagesInEngine: imageBytes,
    files: verified.bytes,
  };
  const data = {
    name: options.name,
    version: options.version,
    project: options.project,
    archive: packed.archive,
    parts: packed.parts,
    sidecar: packed.sidecar,
    sha256: packed.sha256,
    size: packed.size,
    compression: options.compression,
    composeTool: state.compose?.tool,
    profiles: state.compose?.profiles ?? [],
    images: state.images.map((i) => ({ id: i.id, tags: i.tags, size: i.size, role: i.role })),
    built: Object.keys(state.built).sort(),
    pulled: state.pulled,
    buildCaches: state.buildCaches.map((c) => ({
      service: c.service,
      stages: c.stages.map((s) => s.target),
    })),
    tiktoken: state.tiktoken.map((t) => t.encoding),
    stackFiles: state.stack?.files.length ?? 0,
    verifiedFiles: verified.files,
    sizes,
    timings: state.timings,
  };
  const summary = [
    `bundle ${options.name} ${options.version}: ${packed.archive} (${mib(packed.size)}, ${options.compression})`,
    ...(packed.parts.length > 0 ? [`  ${packed.parts.length} parts: ${packed.parts.join(', ')}`] : []),
    `  sidecar ${packed.sidecar} (check with: sha256sum -c ${packed.sidecar.split('/').pop()})`,
    `  sha256 ${packed.sha256}`,
    `  ${state.images.length} images (${mib(imageBytes)} in the engine, ${mib(sizes.imagesArchive)} saved once):`,
    ...state.images.map((i) => `    ${i.id.slice(7, 19)} ${i.tags.join(' ')} (${i.role})`),
    ...(state.buildCaches.length > 0
      ? [`  build caches for ${state.buildCaches.map((c) => c.service).join(', ')}`]
      : []),
    ...(state.tiktoken.length > 0 ? [`  tiktoken: ${state.tiktoken.map((t) => t.encoding).join(', ')}`] : []),
    `  ${state.stack?.files.length ?? 0} stack files; re-read and verified ${verified.files} files`,
    `  done in ${state.timings.total ?? 0} s`,
  ];
  return { data, summary };
}
