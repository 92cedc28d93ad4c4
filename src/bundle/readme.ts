import path from 'node:path';
import { shQuote } from '../selfcontained/sh-quote.js';
import {
  BUILD_CACHE_ARCHIVE,
  bundleStem,
  CHECKSUMS_FILE,
  EXTENSIONS,
  IMAGES_ARCHIVE,
  IMPORT_SCRIPT,
  IMPORTER_BUNDLE,
  RUNTIME_EXECUTABLE,
  STACK_DIR,
  sidecarFileName,
} from './layout.js';
import type { BundleManifest } from './manifest.js';

export interface ReadmeOptions {
  /** Files the staging folder holds at its top (to mention import.sh / offline.mjs only when present). */
  importers: { script: boolean; bundle: boolean; executable?: boolean };
}

/**
 * The bundle's README.txt: how to import it by hand with only GNU tar, coreutils and Docker >= 20.10, as the
 * old scripts did. Every command line starts with "$ " so test/bundle/manual-path.test.ts runs exactly these
 * lines with the real tools. The steps give the layout `offline import` gives an extracted folder (its stack/
 * folder is the target, src/import/target-layout.ts): the tiktoken cache in stack/tiktoken, where a compose
 * file's `./tiktoken` mount finds it, and compose started with the manifest's project and profiles.
 */
export function renderReadme(manifest: Omit<BundleManifest, 'files'>, options: ReadmeOptions): string {
  const stem = bundleStem(manifest.name, manifest.version);
  const gz = `${stem}.offline${EXTENSIONS.gzip}`;
  const zst = `${stem}.offline${EXTENSIONS.zstd}`;
  const composeDir = path.posix.dirname(manifest.compose.file);
  const composeFile = path.posix.basename(manifest.compose.file);
  const fromCompose = (p: string) => path.posix.relative(composeDir, p) || '.';
  const hasCache = manifest.archives.some((a) => a.path === BUILD_CACHE_ARCHIVE);
  const p = manifest.project;
  const profiles = manifest.compose.profiles.map((name) => `--profile ${shQuote(name)} `).join('');
  const hasTiktoken = manifest.tiktoken.entries.length > 0;
  const placedTiktoken = path.posix.join(STACK_DIR, manifest.tiktoken.dir);
  const lines = [
    `${manifest.name} ${manifest.version}: an offline bundle made by ${manifest.tool.name} ${manifest.tool.version}`,
    `created ${manifest.createdAt}; ${manifest.images.length} images; ${manifest.services.length} services`,
    '',
    ...(options.importers.bundle
      ? [`The easy way (Node >= 20.17):  node ${IMPORTER_BUNDLE} import . --start`]
      : []),
    ...(options.importers.executable && manifest.runtime?.platform
      ? [`Without Node (${manifest.runtime.platform}):  ./${RUNTIME_EXECUTABLE} import . --start`]
      : []),
    ...(options.importers.script ? [`With sh, coreutils and docker:  sh ${IMPORT_SCRIPT} --start`] : []),
    ...(options.importers.bundle || options.importers.script ? [''] : []),
    'By hand, with GNU tar, coreutils and Docker >= 20.10 (lines starting with $ are commands):',
    '',
    '1. In the folder holding what you copied, check the copy (a part that fails is the one to copy again):',
    `   $ sha256sum -c ${sidecarFileName(gz)}`,
    `   (for a .tar.zst bundle: sha256sum -c ${sidecarFileName(zst)})`,
    '',
    '2. Extract, then go into the bundle folder. One file:',
    `   $ tar xzf ${gz}`,
    '   Split into parts (.part001, .part002, ...): join them as a stream, no joined copy needed:',
    `   $ cat ${gz}.part* | tar xzf -`,
    '   zstd-compressed (.tar.zst, needs zstd):',
    `   $ zstd -dc ${zst} | tar xf -`,
    `   $ cd ${stem}`,
    '',
    '3. Verify every file:',
    `   $ sha256sum -c ${CHECKSUMS_FILE}`,
    '',
    '4. Load the images:',
    `   $ docker load -i ${IMAGES_ARCHIVE}`,
    ...(hasCache ? [`   $ docker load -i ${BUILD_CACHE_ARCHIVE}    (build caches, only for rebuilds)`] : []),
    '',
    '5. Start the stack:',
    ...(hasTiktoken
      ? [
          `   $ cp -RT ${manifest.tiktoken.dir} ${placedTiktoken}    (the tiktoken cache where offline import puts it, for the stack's ./${manifest.tiktoken.dir} mounts)`,
        ]
      : []),
    `   $ cd ${composeDir}`,
    ...(manifest.env
      ? [`   $ cp -n ${fromCompose(manifest.env.template)} .env    (then set the secrets in .env)`]
      : []),
    ...(hasTiktoken ? [`   $ export TIKTOKEN_CACHE_DIR="$(cd ${fromCompose(placedTiktoken)} && pwd)"`] : []),
    `   $ docker compose -p ${p} -f ${composeFile} ${profiles}up -d --no-build`,
    '   or, with compose v1:',
    `   $ docker-compose -p ${p} -f ${composeFile} ${profiles}up -d --no-build`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
