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
import { COMPOSE_PLUGIN, COMPOSE_STANDALONE_V2, COMPOSE_V1 } from '../compose/detect-tool.js';
import { composeUpCommand } from '../compose/up-command.js';
import { OfflineError } from '../errors.js';
import { shQuote } from './sh-quote.js';

/** The manifest as it is when the importers are made: before files[] is known. */
type ManifestHead = Omit<BundleManifest, 'files'>;

/** The folder under the target where an importer keeps the bundle's manifest (src/import/target-layout.ts). */
const MANIFEST_COPY_DIR = '.offline';

/** POSIX sh that prints a fresh value of the kind offline's import generates (coreutils and /proc only). */
export function secretCommand(spec: GeneratedValue): string {
  if (spec.kind === 'uuid') return 'cat /proc/sys/kernel/random/uuid';
  const bytes = `head -c ${spec.bytes} /dev/urandom`;
  return spec.kind === 'hex' ? `${bytes} | od -An -tx1 | tr -d ' \\n'` : `${bytes} | base64 | tr -d '\\n'`;
}

/**
 * sh functions of import.sh that make .env by the rules of src/import/env-file.ts (fillEnvTemplate), so both
 * importers make the same file: `make_env TEMPLATE` prints it. A `[export] KEY = value` line of a key to
 * generate whose value, trimmed, is empty, changeme or change-me (any case), <...>, "" or '' becomes
 * KEY=<fresh value>; every other line stays as it is; keys no line names are appended (after a newline when
 * the template lacks a final one). Whitespace is what JavaScript's \s is in ASCII (space, tab, CR, VT, FF) plus
 * a UTF-8 BOM. A CRLF template keeps its line ends (appended lines get them too); a CR inside a value makes the
 * line no `KEY=value` line, as JavaScript's `.` does not match it.
 */
export function envFunctions(generate: Record<string, GeneratedValue>): string[] {
  const keys = Object.entries(generate);
  return [
    `WS=$(printf ' \\t\\r\\v\\f.'); WS=\${WS%.}`,
    "CR=$(printf '\\r')",
    "BOM=$(printf '\\357\\273\\277')",
    `lstrip() { t=$1; while :; do case "$t" in ["$WS"]*) t=\${t#?} ;; "$BOM"*) t=\${t#"$BOM"} ;; *) return 0 ;; esac; done; }`,
    `rstrip() { t=$1; while :; do case "$t" in *["$WS"]) t=\${t%?} ;; *"$BOM") t=\${t%"$BOM"} ;; *) return 0 ;; esac; done; }`,
    '# Sets k and v to the key and the trimmed value of a `[export] KEY = value` line; 1 for any other line.',
    'env_kv() {',
    '  case "$1" in *=*) ;; *) return 1 ;; esac',
    `  lstrip "\${1%%=*}"; rstrip "$t"; k=$t`,
    `  case "$k" in export["$WS"]*) lstrip "\${k#export}"; k=$t ;; esac`,
    `  lstrip "\${1#*=}"`,
    '  case "$t" in *"$CR"*) return 1 ;; esac',
    '  rstrip "$t"; v=$t',
    '}',
    'placeholder() {',
    `  case "$1" in ""|[Cc][Hh][Aa][Nn][Gg][Ee][Mm][Ee]|[Cc][Hh][Aa][Nn][Gg][Ee]-[Mm][Ee]|\\"\\"|\\'\\'|\\<*\\>) return 0 ;; esac`,
    '  return 1',
    '}',
    'make_env() {',
    ...keys.map(([key]) => `  done_${key}=0`),
    '  end=1; crlf=',
    '  while :; do',
    '    if ! IFS= read -r line; then [ -n "$line" ] || break; end=0; fi',
    `    case "$line" in *"$CR") line=\${line%"$CR"}; cr=$CR; [ "$end" = 0 ] || crlf=$CR ;; *) cr= ;; esac`,
    '    out=$line$cr',
    ...(keys.length > 0
      ? [
          '    if env_kv "$line"; then',
          '      case "$k" in',
          ...keys.map(
            ([key, spec]) =>
              `        ${key}) done_${key}=1; if placeholder "$v"; then out="${key}=$(${secretCommand(spec)})$cr"; fi ;;`,
          ),
          '      esac',
          '    fi',
        ]
      : []),
    `    if [ "$end" = 1 ]; then printf '%s\\n' "$out"; else printf '%s' "$out"; break; fi`,
    '  done < "$1"',
    ...keys.map(
      ([key, spec]) =>
        `  if [ "$done_${key}" = 0 ]; then [ "$end" = 1 ] || { echo; end=1; }; printf '%s=%s%s\\n' ${key} "$(${secretCommand(spec)})" "$crlf"; fi`,
    ),
    '}',
  ];
}

/**
 * The bundle's import.sh: imports it on a host with only sh, coreutils (or busybox) and docker, the way `offline import`
 * does from an extracted folder: verify every file with sha256sum -c, docker load, place the stack files and
 * the tiktoken cache in TARGET (default: the bundle's stack/ folder, in place; any other folder inside the
 * bundle is refused), keep the manifest as .offline/manifest.json, create .env from the template with
 * generated secrets only when none exists, and with --start run whichever compose is installed. Every value
 * is baked in from the manifest, so the script parses no JSON. Stops at the first error with its message.
 */
export function renderImportScript(manifest: ManifestHead): string {
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
  const hasCache = manifest.archives.some((a) => a.path === BUILD_CACHE_ARCHIVE);
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
  const usage = `sh ${IMPORT_SCRIPT} [--start] [TARGET]`;
  const lines = [
    '#!/bin/sh',
    `# ${IMPORT_SCRIPT}: imports ${manifest.name} ${manifest.version} with only sh, coreutils (or busybox) and docker.`,
    `# Made by ${manifest.tool.name} ${manifest.tool.version}. Run it inside the extracted bundle folder:`,
    `#   ${usage}`,
    "# TARGET (default: this bundle's stack/ folder, in place; a folder outside the bundle folder otherwise)",
    '# receives the stack files, tiktoken/, .env and .offline/manifest.json.',
    'set -eu',
    '',
    'say() { printf \'import.sh: %s\\n\' "$*" >&2; }',
    'die() { printf \'import.sh: error: %s\\n\' "$*" >&2; exit 1; }',
    'trap \'rc=$?; [ "$rc" -eq 0 ] || printf "import.sh: stopped (exit %s); nothing after that step was done\\n" "$rc" >&2\' EXIT',
    '# Quotes a value for sh, for the command lines this script prints.',
    'Q="\'"',
    `sq() { s=$1; r=; while :; do case "$s" in *"$Q"*) p=\${s%%"$Q"*}; r=$r$p$Q\\\\$Q$Q; s=\${s#*"$Q"} ;; *) break ;; esac; done; printf "'%s%s'" "$r" "$s"; }`,
    '# The physical path a folder has or would have: its nearest existing parent resolved, the rest appended.',
    'real_path() {',
    '  d=$1; rest=',
    '  while [ ! -d "$d" ]; do rest=/$(basename "$d")$rest; d=$(dirname "$d"); done',
    '  printf \'%s%s\\n\' "$(cd "$d" && pwd -P)" "$rest"',
    '}',
    `# each_listed CMD: runs CMD SUM FILE for each line of ${CHECKSUMS_FILE} (FILE: a path in the bundle folder).`,
    'each_listed() {',
    `  while IFS= read -r line; do "$1" "\${line%%  *}" "\${line#*  }" || return 1; done < ${CHECKSUMS_FILE}`,
    '}',
    `# in_target FILE: sets rel to where FILE goes in TARGET when it is in ${STACK_DIR}/${tiktoken ? ` or ${tiktoken}/` : ''}; 1 otherwise.`,
    'in_target() {',
    `  case "$1" in ${STACK_DIR}/*) rel=\${1#${STACK_DIR}/} ;;${tiktoken ? ` ${q(tiktoken)}/*) rel=$1 ;;` : ''} *) return 1 ;; esac`,
    '}',
    '# place SUM FILE: copies FILE to TARGET when nothing is at its place there; a file already there is kept, for',
    "# the check against the bundle's sums (no cp -n: coreutils 9.2-9.4 fail when it skips a file).",
    'place() {',
    '  in_target "$2" || return 0',
    '  to=$TARGET/$rel',
    '  if [ -e "$to" ] || [ -L "$to" ]; then return 0; fi',
    `  mkdir -p "\${to%/*}" && cp "$2" "$to"`,
    '}',
    '# sum_line SUM FILE: the line of FILE for sha256sum -c run in TARGET.',
    `sum_line() { if in_target "$2"; then printf '%s  %s\\n' "$1" "$rel"; fi; }`,
    '# check_sums LIST: sha256sum -c LIST, printing only the lines of files that fail (busybox has no --quiet).',
    'check_sums() {',
    '  out=$(sha256sum -c "$1" 2>&1) && return 0',
    `  printf '%s\\n' "$out" | while IFS= read -r l; do case "$l" in *': OK') ;; *) printf '%s\\n' "$l" >&2 ;; esac; done`,
    '  return 1',
    '}',
    ...(template ? envFunctions(Object.fromEntries(generate)) : []),
    '',
    'START=0',
    'TARGET=',
    'for arg in "$@"; do',
    '  case "$arg" in',
    '    --start) START=1 ;;',
    `    -h|--help) printf 'usage: ${usage}\\n'; exit 0 ;;`,
    `    -*) die "unknown option $arg (usage: ${usage})" ;;`,
    '    *) [ -z "$TARGET" ] || die "only one TARGET folder"; TARGET=$arg ;;',
    '  esac',
    'done',
    'case "$TARGET" in ""|/*) ;; *) TARGET="$PWD/$TARGET" ;; esac',
    'cd "$(dirname "$0")" || die "cannot enter the bundle folder"',
    `[ -f ${MANIFEST_FILE} ] && [ -f ${CHECKSUMS_FILE} ] || die "run this inside the extracted bundle folder (no ${MANIFEST_FILE} / ${CHECKSUMS_FILE} here)"`,
    'BUNDLE=$(pwd -P)',
    '# The stack spread over the bundle folder would make it a bundle no importer reads (files no list names).',
    'IN_PLACE=1',
    'if [ -n "$TARGET" ]; then',
    '  case "$(real_path "$TARGET")/" in',
    `    "$BUNDLE/${STACK_DIR}/") ;;`,
    `    "$BUNDLE"/*) die "TARGET $TARGET is inside the bundle folder $BUNDLE: give a folder outside it, or none to place the stack in ${STACK_DIR}/ (usage: ${usage})" ;;`,
    '    *) IN_PLACE=0 ;;',
    '  esac',
    'fi',
    '# 0 when a file can be made in folder $1 (not [ -w ]: busybox sh as root says yes on a read-only mount).',
    'writable() { ( : > "$1/.import-sh-probe.$$" ) 2>/dev/null && rm -f "$1/.import-sh-probe.$$"; }',
    '# In place on read-only media (a DVD, a write-protected stick) nothing could be placed: say so before loading.',
    `if [ "$IN_PLACE" = 1 ] && ! writable ${STACK_DIR}; then die "${STACK_DIR}/ cannot be written (read-only media?): give a TARGET folder (usage: ${usage})"; fi`,
    'command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (coreutils or busybox)"',
    'command -v docker >/dev/null 2>&1 || die "docker not found"',
    '# Only regular files and folders: a symbolic link (which sha256sum -c would follow) is refused.',
    'LINK_IS="is a symbolic link; a bundle holds only regular files and folders"',
    '# no_links DIR [SKIP]: refuses a link anywhere under DIR, except under its entry SKIP.',
    'no_links() {',
    '  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do',
    `    if [ "$f" = "\${2-}" ]; then continue; fi`,
    '    if [ -L "$f" ]; then die "$f $LINK_IS"; fi',
    '    if [ -d "$f" ]; then no_links "$f"; fi',
    '  done',
    '}',
    '# no_link_on_way SUM FILE: refuses FILE, or a folder on its way, that is a link.',
    'no_link_on_way() {',
    '  p=$2',
    '  while :; do',
    '    if [ -L "$p" ]; then die "./$p $LINK_IS"; fi',
    `    case "$p" in */*) p=\${p%/*} ;; *) return 0 ;; esac`,
    '  done',
    '}',
    `# 0 when file $1 is byte for byte ${MANIFEST_FILE} (compared by sha256: cmp is no coreutils tool).`,
    `same_manifest() { [ -f "$1" ] && [ "$(sha256sum < "$1")" = "$(sha256sum < ${MANIFEST_FILE})" ]; }`,
    `# After an import in place (its copy of ${MANIFEST_FILE} is this one) the stack runs in ${STACK_DIR}/ and writes`,
    `# there: only the listed paths of ${STACK_DIR}/ are the bundle's, the rest is the stack's or its user's.`,
    `if same_manifest ${STACK_DIR}/${MANIFEST_COPY_DIR}/${MANIFEST_FILE}; then no_links . ./${STACK_DIR}; each_listed no_link_on_way`,
    'else no_links .',
    'fi',
    '',
    `say "1/5 verifying every file: sha256sum -c ${CHECKSUMS_FILE}"`,
    `check_sums ${CHECKSUMS_FILE} || die "verification failed: the files named above differ from ${CHECKSUMS_FILE}; nothing was loaded. Copy the bundle again."`,
    '',
    `say "2/5 loading images: docker load -i ${IMAGES_ARCHIVE}"`,
    `docker load -i ${IMAGES_ARCHIVE} || die "docker load -i ${IMAGES_ARCHIVE} failed"`,
    ...(hasCache
      ? [`docker load -i ${BUILD_CACHE_ARCHIVE} || die "docker load -i ${BUILD_CACHE_ARCHIVE} failed"`]
      : []),
    '',
    `SRC=$(cd ${STACK_DIR} && pwd -P)`,
    'if [ -z "$TARGET" ]; then TARGET=$SRC; fi',
    'mkdir -p "$TARGET" || die "cannot create $TARGET"',
    'TARGET=$(cd "$TARGET" && pwd -P)',
    'say "3/5 placing the stack files in $TARGET"',
    '# Only the listed files: files already there are kept, then every placed file is checked against the sums.',
    `each_listed place || die "copying the bundle's files to $TARGET failed"`,
    'LIST="$TARGET/.import-sh-sums.$$"',
    'each_listed sum_line > "$LIST"',
    'if ! (cd "$TARGET" && check_sums "$LIST"); then',
    '  rm -f "$LIST"',
    '  die "files in $TARGET differ from the bundle (named above): move them away and run again"',
    'fi',
    'rm -f "$LIST"',
    `# The manifest, kept as offline import keeps it: for \`offline rebuild\` and the next import.`,
    `COPY="$TARGET/${MANIFEST_COPY_DIR}/${MANIFEST_FILE}"`,
    `mkdir -p "$TARGET/${MANIFEST_COPY_DIR}" && cp ${MANIFEST_FILE} "$COPY.$$" && mv -f "$COPY.$$" "$COPY" || die "keeping ${MANIFEST_FILE} as $COPY failed"`,
    '',
    ...(template
      ? [
          'say "4/5 .env"',
          'if [ -e "$TARGET/.env" ] || [ -L "$TARGET/.env" ]; then',
          '  say "$TARGET/.env exists: left as it is"',
          'else',
          '  old_umask=$(umask); umask 077',
          `  make_env "$TARGET"/${q(template)} > "$TARGET/.env.tmp"`,
          '  mv "$TARGET/.env.tmp" "$TARGET/.env"',
          '  umask "$old_umask"',
          `  say "created $TARGET/.env from ${template}${generate.length > 0 ? ` with generated ${generate.map(([k]) => k).join(', ')}` : ''}"`,
          'fi',
        ]
      : ['say "4/5 .env: the bundle has no env template"']),
    ...(tiktoken
      ? [`export TIKTOKEN_CACHE_DIR="$TARGET"/${q(tiktoken)}`, 'say "TIKTOKEN_CACHE_DIR=$TIKTOKEN_CACHE_DIR"']
      : []),
    '',
    '# One command starts the stack: printed when there is no --start, run with it.',
    'COMPOSE_FOUND=1',
    '# docker-compose: 1.x takes no --pull; 2.x (the static binary) does, like the docker compose plugin.',
    `if docker compose version >/dev/null 2>&1; then UP=${q(composeUpCommand(manifest, COMPOSE_PLUGIN))}`,
    'elif command -v docker-compose >/dev/null 2>&1; then',
    '  case "$(docker-compose version --short 2>/dev/null)" in',
    `    1.*|v1.*) UP=${q(composeUpCommand(manifest, COMPOSE_V1))} ;;`,
    `    *) UP=${q(composeUpCommand(manifest, COMPOSE_STANDALONE_V2))} ;;`,
    '  esac',
    `else COMPOSE_FOUND=0; UP=${q(composeUpCommand(manifest, COMPOSE_PLUGIN))}`,
    'fi',
    `START_CMD="cd $(sq "$TARGET") && ${tiktoken ? 'TIKTOKEN_CACHE_DIR=$(sq "$TIKTOKEN_CACHE_DIR") ' : ''}$UP"`,
    'if [ "$START" -eq 0 ]; then',
    '  if [ "$COMPOSE_FOUND" = 1 ]; then say "done. Start it with this command (or run this script again with --start):"',
    '  else say "done. No compose tool found (docker compose or docker-compose); with one installed, start it with:"; fi',
    `  printf '  %s\\n' "$START_CMD" >&2`,
    '  exit 0',
    'fi',
    '[ "$COMPOSE_FOUND" = 1 ] || die "no compose tool found (docker compose or docker-compose); the images are loaded and the files placed"',
    'say "5/5 starting the stack: $START_CMD"',
    'eval "$START_CMD" || die "starting the stack failed"',
    `say "started ${manifest.name} ${manifest.version} (project ${manifest.project})"`,
    '',
  ];
  return lines.join('\n');
}
