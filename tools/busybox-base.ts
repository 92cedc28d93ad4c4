import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import type { DockerEngine } from '../src/docker/engine.js';

export const BUSYBOX = '/bin/busybox';

/**
 * A base image made with no registry: Debian's busybox-static as the whole root file system, imported into
 * the engine (`docker import`). It can RUN shell commands, serve HTTP with `busybox httpd`, and answer health
 * checks with `wget`. The tag carries the binary's hash, so one build is reused until busybox changes.
 */
export async function ensureBusyboxBase(
  engine: DockerEngine,
  repo = 'offline-base/busybox',
): Promise<string> {
  const binary = readFileSync(BUSYBOX);
  const ref = `${repo}:${createHash('sha256').update(binary).digest('hex').slice(0, 12)}`;
  if (await engine.inspectImage(ref)) return ref;
  const root = await mkdtemp(path.join(tmpdir(), 'busybox-rootfs-'));
  try {
    for (const dir of [
      'bin',
      'sbin',
      'usr/bin',
      'usr/sbin',
      'etc',
      'tmp',
      'var/www',
      'root',
      'proc',
      'sys',
      'dev',
    ]) {
      await mkdir(path.join(root, dir), { recursive: true });
    }
    await chmod(path.join(root, 'tmp'), 0o1777);
    await copyFile(BUSYBOX, path.join(root, 'bin/busybox'));
    await chmod(path.join(root, 'bin/busybox'), 0o755);
    const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) {
      if (applet === 'bin/busybox') continue;
      const target = path.join(root, applet);
      await mkdir(path.dirname(target), { recursive: true });
      await symlink('/bin/busybox', target).catch(() => {});
    }
    await writeFile(
      path.join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
    );
    await writeFile(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await writeFile(path.join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
    const rootfs = tar.c({ cwd: root, portable: true, gzip: false }, ['.']);
    await engine.importImage(rootfs as never, ref, [
      'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin',
      'CMD ["/bin/sh"]',
    ]);
    return ref;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
