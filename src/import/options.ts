/** What `offline import` was asked to do. */
export interface ImportOptions {
  /** The archive, one of its parts, or the folder holding them. */
  bundle: string;
  /** Where the stack files, the tiktoken cache and the report go. */
  target: string;
  /** Start the stack after loading, and wait for it. */
  start: boolean;
  /** Seconds to wait for healthy/running after the start. */
  timeout: number;
  /** Go on despite a platform mismatch; overwrite changed files (backed up first). */
  force: boolean;
  /**
   * `HOST[:PORT][/PREFIX]` where `offline push` put the images: nothing is loaded; the stack files are placed
   * with a compose override naming the registry's images, and --start pulls from there.
   */
  registry?: string;
}
