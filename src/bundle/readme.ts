import path from 'node:path';
import { COMPOSE_PLUGIN, COMPOSE_V1 } from '../compose/detect-tool.js';
import { composeUpCommand } from '../compose/up-command.js';
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
  const q = shQuote;
  const stem = bundleStem(manifest.name, manifest.version);
  const gz = q(`${stem}.offline${EXTENSIONS.gzip}`);
  const zst = q(`${stem}.offline${EXTENSIONS.zstd}`);
  const tar = q(`${stem}.offline${EXTENSIONS.none}`);
  const composeDir = path.posix.dirname(manifest.compose.file);
  const fromCompose = (p: string) => path.posix.relative(composeDir, p) || '.';
  const hasCache = manifest.archives.some((a) => a.path === BUILD_CACHE_ARCHIVE);
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
    ...(options.importers.script
      ? [`With sh, coreutils (or busybox) and docker:  sh ${IMPORT_SCRIPT} --start`]
      : []),
    ...(options.importers.bundle || options.importers.script ? [''] : []),
    'By hand, with GNU tar, coreutils and Docker >= 20.10. Lines starting with $ are commands: type or paste',
    'each one, without the $, as it is.',
    '',
    '1. In the folder holding what you copied, check the copy (a part that fails is the one to copy again).',
    '   The sidecar ends in .tar.gz.sha256 (gzip, the default), .tar.zst.sha256 (zstd) or .tar.sha256 (not',
    '   compressed); check the one you have:',
    `   $ sha256sum -c ${gz}.sha256`,
    `   $ sha256sum -c ${zst}.sha256`,
    `   $ sha256sum -c ${tar}.sha256`,
    '',
    '2. Extract, then go into the bundle folder. Parts (.part001, .part002, ...) are joined as a stream, no',
    '   joined copy needed. gzip (.tar.gz), one file or parts:',
    `   $ tar xzf ${gz}`,
    `   $ cat ${gz}.part* | tar xzf -`,
    '   zstd (.tar.zst, needs zstd), one file or parts:',
    `   $ zstd -dc ${zst} | tar xf -`,
    `   $ cat ${zst}.part* | zstd -dc | tar xf -`,
    '   Not compressed (.tar), one file or parts:',
    `   $ tar xf ${tar}`,
    `   $ cat ${tar}.part* | tar xf -`,
    '   Then:',
    `   $ cd ${q(stem)}`,
    '',
    '3. Verify every file:',
    `   $ sha256sum -c ${CHECKSUMS_FILE}`,
    '',
    '4. Load the images:',
    `   $ docker load -i ${IMAGES_ARCHIVE}`,
    ...(hasCache
      ? [
          '   The build caches, needed only to rebuild a service:',
          `   $ docker load -i ${BUILD_CACHE_ARCHIVE}`,
        ]
      : []),
    '',
    '5. Start the stack.',
    ...(hasTiktoken
      ? [
          `   The tiktoken cache, where offline import puts it (for the stack's ./${manifest.tiktoken.dir} mounts):`,
          `   $ cp -RT ${q(manifest.tiktoken.dir)} ${q(placedTiktoken)}`,
        ]
      : []),
    `   $ cd ${q(composeDir)}`,
    ...(manifest.env
      ? [
          '   .env from the template, unless one exists (then set the secrets in .env):',
          `   $ test -e .env || cp ${q(fromCompose(manifest.env.template))} .env`,
        ]
      : []),
    ...(hasTiktoken
      ? [`   $ export TIKTOKEN_CACHE_DIR="$(cd ${q(fromCompose(placedTiktoken))} && pwd)"`]
      : []),
    '   With the docker compose plugin (with a docker-compose 2.x, write docker-compose for docker compose):',
    `   $ ${composeUpCommand(manifest, COMPOSE_PLUGIN)}`,
    '   or, with docker-compose 1.x:',
    `   $ ${composeUpCommand(manifest, COMPOSE_V1)}`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
