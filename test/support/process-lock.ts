import { open, readFile, rm } from 'node:fs/promises';

/**
 * An exclusive lock across processes (vitest runs test files in parallel workers): a file created with O_EXCL
 * holding the holder's pid, taken over from a holder that died. Returns its release.
 */
export async function lockAcrossProcesses(
  file: string,
  what: string,
  timeoutMs: number,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && !alive(holder)) await rm(file, { force: true });
    if (Date.now() > deadline) throw new Error(`${what} (pid ${holder}) held ${file} too long`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
