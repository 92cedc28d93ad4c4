/**
 * The head of offline.mjs: two lines that are a POSIX sh launcher and JavaScript at once. Run as a program (the
 * `offline` bin, `./offline.mjs`, `sh offline.mjs`), sh reads line 2 and execs Node on the same file; Node, run
 * either way, skips line 1 (a hashbang) and reads line 2 as a string and a comment.
 *
 * What the launcher is for: Node 20 parses the CA bundle NODE_EXTRA_CA_CERTS names at every start, before any
 * script runs (its built-in roots too, into one store). Hosts behind a TLS-inspecting proxy set it (this VM
 * does); on 2 cores it took `node -e 0` from 35 to 112 ms (hyperfine, means of 20), and a re-import of the
 * import benchmark's bundle from 200 to 272 ms. The commands below never open a TLS connection: they read files
 * and talk to the Docker engine, so the launcher unsets the variable for them when the engine is a unix socket
 * (DOCKER_HOST unset or unix://). A tcp:// or https:// engine, and every other command (export's downloads,
 * push, deploy), keep it. The first argument not starting with `-` is the command: offline's own options take no values.
 *
 * How it starts Node: on the file as a script (BOOT), not as the ES module its name makes it. An ES module
 * entry costs Node 20 its ES module loader, about 9 ms of every start on 2 cores (an empty .mjs against an
 * empty .cjs: 49.7 against 40.9 ms, medians of 150 interleaved runs). Built offline.mjs, this way against the
 * other, in three rounds each: `--version` faster by 4-10 ms (93.1 -> 83.6, 76.7 -> 72.5, 78.6 -> 72.4 ms;
 * medians of 100-150 interleaved runs), a re-import of the import benchmark's bundle by 1-8 ms (202.6 -> 201.8,
 * 204.0 -> 198.6, 179.4 -> 171.9 ms; medians of 80-120). The loader that follows runs either way
 * (single-file-main.ts), so `node offline.mjs` still works.
 */
export const COMMANDS_WITHOUT_TLS = ['import', 'verify', 'inspect', 'rebuild', 'checksum'] as const;

/**
 * What `node -e` runs: this file's text as the body of a function (vm.compileFunction, which allows its
 * hashbang line) given Node's require and the file's real path (as Node resolves a main script), that path
 * also as process.argv[1]. Node takes the first argument after the code ("$0") as the first of the script's,
 * so every option after it reaches the CLI. No single quote: sh quotes it with them.
 */
export const BOOT = [
  'const fs=require("fs"),f=fs.realpathSync(process.argv[1])',
  'process.argv[1]=f',
  'require("vm").compileFunction(fs.readFileSync(f,"utf8"),["require","__filename"],{filename:f})(require,f)',
].join(';');

/** The launcher: a hashbang line, then the sh line that Node sees as `":"` and a comment. */
export function launcherHead(): string {
  const sh = [
    'for a in "$@"; do case $a in',
    '-*) ;;',
    `${COMMANDS_WITHOUT_TLS.join('|')}) case \${DOCKER_HOST:-unix://} in unix://*) unset NODE_EXTRA_CA_CERTS ;; esac; break ;;`,
    '*) break ;;',
    `esac; done; exec node -e '${BOOT}' "$0" "$@"`,
  ].join(' ');
  return [
    '#!/bin/sh',
    `":" //; ${sh}`,
    '// Line 2 is sh, run when this file is run as a program: see src/selfcontained/launcher.ts.',
    '',
  ].join('\n');
}
