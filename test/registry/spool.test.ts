import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSpool, sweepStaleSpools } from '../../src/registry/spool.js';
import { tempDir } from '../support/temp-dir.js';

/** The pid of a process that has ended (and was reaped): nothing runs under it now. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid as number;
}

async function identity(): Promise<{ boot: string; namespace: string }> {
  const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8'))
    .trim()
    .replace(/-/g, '')
    .slice(0, 8);
  const namespace = /\[(\d+)\]/.exec(await readlink('/proc/self/ns/pid'))?.[1] as string;
  return { boot, namespace };
}

describe('push spools', () => {
  it('are named after the boot, PID namespace and pid of the push that made them', async () => {
    const dir = await tempDir();
    const { boot, namespace } = await identity();
    const spool = await makeSpool(dir);
    expect(path.dirname(spool)).toBe(dir);
    expect(path.basename(spool)).toMatch(
      new RegExp(`^offline-push-${boot}-${namespace}-${process.pid}-\\w{6}$`),
    );
  });

  it('only those of killed pushes are swept: an older boot, or a gone process in this PID namespace', async () => {
    const dir = await tempDir();
    const { boot, namespace } = await identity();
    const otherBoot = boot === '00000000' ? '11111111' : '00000000';
    const dead = await deadPid();
    const names = {
      deadHere: `offline-push-${boot}-${namespace}-${dead}-aaaaaa`,
      olderBoot: `offline-push-${otherBoot}-${namespace}-${process.pid}-bbbbbb`,
      running: `offline-push-${boot}-${namespace}-${process.pid}-cccccc`,
      // Another PID namespace (a container sharing /tmp): its process cannot be checked from here.
      otherNamespace: `offline-push-${boot}-1-${dead}-dddddd`,
      unnamed: 'offline-push-eeeeee',
      unrelated: 'notes.txt',
    };
    for (const name of Object.values(names).filter((n) => n !== names.unrelated)) {
      await mkdir(path.join(dir, name));
      await writeFile(path.join(dir, name, 'images.tar'), 'spooled');
    }
    await writeFile(path.join(dir, names.unrelated), 'mine');
    const removed = await sweepStaleSpools(dir);
    expect(removed.sort()).toEqual([names.deadHere, names.olderBoot].sort());
    expect((await readdir(dir)).sort()).toEqual(
      [names.running, names.otherNamespace, names.unnamed, names.unrelated].sort(),
    );
  });
});
