import { BUILD_CACHE_ARCHIVE, bundleStem, CHECKSUMS_FILE, IMAGES_ARCHIVE } from './layout.js';
import type { BundleManifest } from './manifest.js';

/**
 * The bundle's README.txt: how to import it by hand with only GNU tar, coreutils and Docker >= 20.10, as the
 * old scripts did. Everything it says is tested by running it (test/bundle/manual-path.test.ts).
 */
export function renderReadme(manifest: Omit<BundleManifest, 'files'>): string {
  const stem = bundleStem(manifest.name, manifest.version);
  const composeFile = manifest.compose.file.replace(/^stack\//, '');
  const hasCache = manifest.archives.some((a) => a.path === BUILD_CACHE_ARCHIVE);
  const lines = [
    `${manifest.name} ${manifest.version}: an offline bundle made by offline ${manifest.tool.version}`,
    `created ${manifest.createdAt}; ${manifest.images.length} images; ${manifest.services.length} services`,
    '',
    'The easy way (Node >= 20 on this host):   node offline.mjs import . --start',
    'With only sh, coreutils and docker:        sh import.sh',
    '',
    'By hand, with GNU tar, coreutils and Docker >= 20.10:',
    '',
    '  1. Check what you copied (in the folder holding the archive or its parts):',
    '       sha256sum -c <archive>.sha256',
    '     A part that fails is the one to copy again; the others are fine.',
    '  2. Extract (for parts: cat <archive>.part* | tar xzf -   ; for .tar.zst: tar --zstd -xf <archive>):',
    `       tar xzf ${stem}.offline.tar.gz && cd ${stem}`,
    '  3. Verify every file:',
    `       sha256sum -c ${CHECKSUMS_FILE}`,
    '  4. Load the images:',
    `       docker load -i ${IMAGES_ARCHIVE}`,
    ...(hasCache ? [`       docker load -i ${BUILD_CACHE_ARCHIVE}     # build caches, for rebuilds`] : []),
    '  5. Start the stack:',
    '       cd stack',
    ...(manifest.env
      ? [`       cp ${manifest.env.template.replace(/^stack\//, '')} .env   # then set the secrets in .env`]
      : []),
    ...(manifest.tiktoken.entries.length > 0
      ? [
          '       export TIKTOKEN_CACHE_DIR="$(cd ../tiktoken && pwd)"   # the tiktoken cache this bundle carries',
        ]
      : []),
    `       docker compose -p ${manifest.project} -f ${composeFile} up -d --no-build`,
    `     or, with compose v1:  docker-compose -p ${manifest.project} -f ${composeFile} up -d --no-build`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
