// Constants the single-file builds define (importer-build.ts); code reads them behind `typeof` so it also runs
// from source and from the tsc build, where they are not defined.

/** 'esm' inside offline.mjs, 'cjs' inside a single executable. */
declare const OFFLINE_SINGLE_FILE: string | undefined;

/** offline.mjs's loader only: the sha256 of the CLI the file carries. */
declare const OFFLINE_CLI_SOURCE_HASH: string;

/** offline.mjs's loader only: the function at the end of the file whose body carries the CLI (embedded-cli.ts). */
declare function offlineCliCarrier(): void;
