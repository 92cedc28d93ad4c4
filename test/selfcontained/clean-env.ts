import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gatherOutput } from '../support/child-output.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command as on an air-gapped host that has only what the bundle carries: no network (`unshare -n`;
 * the engine's unix socket still answers), a fresh HOME, no NODE_PATH or npm variables, PATH as given, only
 * DOCKER_HOST kept; the fresh HOME is made beside the working folder (removed with it). The working folder
 * is a temp folder outside the repository, so no node_modules is on any parent path.
 */
export function runClean(
  command: string,
  args: string[],
  options: { cwd: string; path: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    mkdtemp(path.join(path.dirname(options.cwd), 'home-')).then((home) => {
      const child = spawn('/usr/bin/unshare', ['-n', command, ...args], {
        cwd: options.cwd,
        env: {
          PATH: options.path,
          HOME: home,
          DOCKER_HOST: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
          OFFLINE_SILENT: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output = gatherOutput(child);
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, ...output }));
    }, reject);
  });
}

/** Proves the folder and each of its parents hold no node_modules (what a clean host looks like). */
export async function assertNoNodeModulesUp(dir: string): Promise<void> {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if ((await readdir(at)).includes('node_modules')) throw new Error(`${at} holds node_modules`);
    if (at === path.dirname(at)) return;
  }
}

/** Flips one byte in the middle of a file. */
export async function flipByte(file: string): Promise<void> {
  const bytes = await readFile(file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  await writeFile(file, bytes);
}

/**
 * A PATH folder as on a busybox-only host (Alpine without coreutils): every applet of busybox-static, plus
 * docker and docker-compose where this host has them. Run `/bin/busybox sh` with it as the whole PATH.
 */
export async function busyboxPath(): Promise<string> {
  const bin = await mkdtemp(path.join(tmpdir(), 'offline-busybox-'));
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) await symlink('/bin/busybox', path.join(bin, applet));
  for (const tool of ['docker', 'docker-compose']) {
    const found = execFileSync('/bin/sh', ['-c', `command -v ${tool} || true`], { encoding: 'utf8' }).trim();
    if (found) await symlink(found, path.join(bin, tool));
  }
  return bin;
}
