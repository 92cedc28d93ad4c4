import { OfflineError } from '../errors.js';
import type { Credentials } from './auth.js';

/**
 * Credentials from --username with --password-stdin, or from OFFLINE_REGISTRY_USER and
 * OFFLINE_REGISTRY_PASSWORD; none when neither is given (anonymous push). Never from the command line.
 */
export async function readCredentials(
  flags: { username?: string; passwordStdin?: boolean },
  stdin: NodeJS.ReadableStream = process.stdin,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  if (flags.passwordStdin) {
    if (!flags.username) throw new OfflineError('EUSAGE', '--password-stdin needs --username');
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
    const password = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (!password) throw new OfflineError('EUSAGE', '--password-stdin: nothing was read from standard input');
    return { username: flags.username, password };
  }
  const username = flags.username ?? env.OFFLINE_REGISTRY_USER;
  const password = env.OFFLINE_REGISTRY_PASSWORD;
  if (username && password) return { username, password };
  if (flags.username) {
    throw new OfflineError('EUSAGE', '--username needs --password-stdin or OFFLINE_REGISTRY_PASSWORD');
  }
  return undefined;
}
