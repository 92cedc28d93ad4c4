import path from 'node:path';
import {
  BUILD_CACHE_ARCHIVE,
  CHECKSUMS_FILE,
  IMAGES_ARCHIVE,
  IMPORT_SCRIPT,
  MANIFEST_FILE,
  STACK_DIR,
} from '../bundle/layout.js';
import type { BundleManifest, GeneratedValue } from '../bundle/manifest.js';
import { OfflineError } from '../errors.js';
import { shQuote } from './sh-quote.js';

/** POSIX sh that prints a fresh value of the kind offline's import generates (coreutils and /proc only). */
export function secretCommand(spec: GeneratedValue): string {
  if (spec.kind === 'uuid') return 'cat /proc/sys/kernel/random/uuid';
  const bytes = `head -c ${spec.bytes} /dev/urandom`;
  return spec.kind === 'hex' ? `${bytes} | od -An -tx1 | tr -d ' \\n'` : `${bytes} | base64 | tr -d '\\n'`;
}

/**
 * The bundle's import.sh: imports it on a host with only sh, coreutils and docker, the way `offline import`
 * does from an extracted folder: verify every file with sha256sum -c, docker load, place the stack files and
 * the tiktoken cache in TARGET (default: the bundle's stack/ folder, in place), create .env from the template
 * with generated secrets only when none exists, and with --start run whichever compose is installed. Every
 * value is baked in from the manifest, so the script parses no JSON. Stops at the first error with its message.
 */
export function renderImportScript(manifest: Omit<BundleManifest, 'files'>): string {
  const q = shQuote;
  const composeDir = path.posix.dirname(manifest.compose.file);
  if (composeDir !== STACK_DIR) {
    throw new OfflineError(
      'EMANIFEST',
      `${IMPORT_SCRIPT}: compose file ${manifest.compose.file} is not in ${STACK_DIR}/`,
      {
        file: manifest.compose.file,
      },
    );
  }
  const composeFile = path.posix.basename(manifest.compose.file);
  const hasCache = manifest.archives.some((a) => a.path === BUILD_CACHE_ARCHIVE);
  const profiles = manifest.compose.profiles.map((p) => `--profile ${q(p)} `).join('');
  const template = manifest.env ? path.posix.relative(STACK_DIR, manifest.env.template) : undefined;
  const generate = Object.entries(manifest.env?.generate ?? {});
  for (const [key] of generate) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new OfflineError(
        'EMANIFEST',
        `${IMPORT_SCRIPT}: env.generate key "${key}" is not a variable name`,
        {
          file: key,
        },
      );
    }
  }
  const tiktoken = manifest.tiktoken.entries.length > 0 ? manifest.tiktoken.dir : undefined;
  const lines = [
    '#!/bin/sh',
    `# ${IMPORT_SCRIPT}: imports ${manifest.name} ${manifest.version} with only sh, coreutils and docker.`,
    `# Made by ${manifest.tool.name} ${manifest.tool.version}. Run it inside the extracted bundle folder:`,
    '#   sh import.sh [--start] [TARGET]',
    "# TARGET (default: this bundle's stack/ folder, in place) receives the stack files, tiktoken/ and .env.",
    'set -eu',
    '',
    'say() { printf \'import.sh: %s\\n\' "$*" >&2; }',
    'die() { printf \'import.sh: error: %s\\n\' "$*" >&2; exit 1; }',
    'trap \'rc=$?; [ "$rc" -eq 0 ] || printf "import.sh: stopped (exit %s); nothing after that step was done\\n" "$rc" >&2\' EXIT',
    '',
    'START=0',
    'TARGET=',
    'for arg in "$@"; do',
    '  case "$arg" in',
    '    --start) START=1 ;;',
    `    -h|--help) printf 'usage: sh ${IMPORT_SCRIPT} [--start] [TARGET]\\n'; exit 0 ;;`,
    '    -*) die "unknown option $arg (usage: sh import.sh [--start] [TARGET])" ;;',
    '    *) [ -z "$TARGET" ] || die "only one TARGET folder"; TARGET=$arg ;;',
    '  esac',
    'done',
    'case "$TARGET" in ""|/*) ;; *) TARGET="$PWD/$TARGET" ;; esac',
    'cd "$(dirname "$0")" || die "cannot enter the bundle folder"',
    `[ -f ${MANIFEST_FILE} ] && [ -f ${CHECKSUMS_FILE} ] || die "run this inside the extracted bundle folder (no ${MANIFEST_FILE} / ${CHECKSUMS_FILE} here)"`,
    'command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (GNU coreutils)"',
    'command -v docker >/dev/null 2>&1 || die "docker not found"',
    '# Only regular files and folders: a symbolic link (which sha256sum -c would follow) is refused.',
    'no_links() {',
    '  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do',
    '    if [ -L "$f" ]; then die "$f is a symbolic link; a bundle holds only regular files and folders"; fi',
    '    if [ -d "$f" ]; then no_links "$f"; fi',
    '  done',
    '}',
    'no_links .',
    '',
    `say "1/5 verifying every file: sha256sum -c ${CHECKSUMS_FILE}"`,
    `sha256sum --quiet -c ${CHECKSUMS_FILE} >&2 || die "verification failed: the files named above differ from ${CHECKSUMS_FILE}; nothing was loaded. Copy the bundle again."`,
    '',
    `say "2/5 loading images: docker load -i ${IMAGES_ARCHIVE}"`,
    `docker load -i ${IMAGES_ARCHIVE} || die "docker load -i ${IMAGES_ARCHIVE} failed"`,
    ...(hasCache
      ? [`docker load -i ${BUILD_CACHE_ARCHIVE} || die "docker load -i ${BUILD_CACHE_ARCHIVE} failed"`]
      : []),
    '',
    `SRC=$(cd ${STACK_DIR} && pwd)`,
    'if [ -z "$TARGET" ]; then TARGET=$SRC; fi',
    'mkdir -p "$TARGET" || die "cannot create $TARGET"',
    'TARGET=$(cd "$TARGET" && pwd)',
    'say "3/5 placing the stack files in $TARGET"',
    "# Files already there are kept (cp -n), then every placed file is checked against the bundle's sums.",
    `if [ "$TARGET" != "$SRC" ]; then cp -R -n ${STACK_DIR}/. "$TARGET/" || die "copying the stack files to $TARGET failed"; fi`,
    ...(tiktoken
      ? [
          `mkdir -p "$TARGET/${tiktoken}" && cp -R -n ${tiktoken}/. "$TARGET/${tiktoken}/" || die "copying ${tiktoken}/ to $TARGET failed"`,
        ]
      : []),
    'LIST="$TARGET/.import-sh-sums.$$"',
    `while IFS= read -r line; do`,
    `  sum=\${line%%  *}; file=\${line#*  }`,
    '  case "$file" in',
    `    ${STACK_DIR}/*) printf '%s  %s\\n' "$sum" "\${file#${STACK_DIR}/}" ;;`,
    ...(tiktoken ? [`    ${tiktoken}/*) printf '%s  %s\\n' "$sum" "$file" ;;`] : []),
    '  esac',
    `done < ${CHECKSUMS_FILE} > "$LIST"`,
    'if ! (cd "$TARGET" && sha256sum --quiet -c "$LIST" >&2); then',
    '  rm -f "$LIST"',
    '  die "files in $TARGET differ from the bundle (named above): move them away and run again"',
    'fi',
    'rm -f "$LIST"',
    '',
    ...(template
      ? [
          'say "4/5 .env"',
          'if [ -e "$TARGET/.env" ]; then',
          '  say "$TARGET/.env exists: left as it is"',
          'else',
          ...generate.map(([key]) => `  done_${key}=0`),
          '  old_umask=$(umask); umask 077',
          '  while IFS= read -r line || [ -n "$line" ]; do',
          '    case "$line" in',
          ...generate.map(
            ([key, spec]) =>
              `      ${key}=|${key}=\\"\\"|${key}=\\'\\'|${key}=changeme|${key}=change-me|${key}=CHANGEME|${key}=\\<*\\>) printf '%s=%s\\n' ${key} "$(${secretCommand(spec)})"; done_${key}=1 ;;`,
          ),
          `      *) printf '%s\\n' "$line" ;;`,
          '    esac',
          `  done < "$TARGET/${template}" > "$TARGET/.env.tmp"`,
          ...generate.map(
            ([key, spec]) =>
              `  [ "$done_${key}" = 1 ] || printf '%s=%s\\n' ${key} "$(${secretCommand(spec)})" >> "$TARGET/.env.tmp"`,
          ),
          '  mv "$TARGET/.env.tmp" "$TARGET/.env"',
          '  umask "$old_umask"',
          `  say "created $TARGET/.env from ${template}${generate.length > 0 ? ` with generated ${generate.map(([k]) => k).join(', ')}` : ''}"`,
          'fi',
        ]
      : ['say "4/5 .env: the bundle has no env template"']),
    ...(tiktoken
      ? ['export TIKTOKEN_CACHE_DIR="$TARGET/tiktoken"', 'say "TIKTOKEN_CACHE_DIR=$TIKTOKEN_CACHE_DIR"']
      : []),
    '',
    'if [ "$START" -eq 0 ]; then',
    `  say "done. Start it with: cd \\"$TARGET\\" && docker compose -p ${q(manifest.project)} -f ${q(composeFile)} up -d (or sh import.sh --start)"`,
    '  exit 0',
    'fi',
    'say "5/5 starting the stack"',
    'cd "$TARGET"',
    'if docker compose version >/dev/null 2>&1; then',
    `  docker compose -p ${q(manifest.project)} -f ${q(composeFile)} ${profiles}up -d --no-build --pull never || die "docker compose up failed"`,
    'elif command -v docker-compose >/dev/null 2>&1; then',
    `  docker-compose -p ${q(manifest.project)} -f ${q(composeFile)} ${profiles}up -d --no-build || die "docker-compose up failed"`,
    'else',
    '  die "no compose tool found (docker compose or docker-compose); the images are loaded and the files placed"',
    'fi',
    `say "started ${manifest.name} ${manifest.version} (project ${manifest.project})"`,
    '',
  ];
  return lines.join('\n');
}
