import { describe, expect, it } from 'vitest';
import type { DockerEngine, ImageInfo } from '../../src/docker/engine.js';
import { restoreImageSnapshot, takeImageSnapshot } from '../../src/import/image-snapshot.js';

/**
 * An engine holding images by ID with their tags, as the undo sees it: tagging moves a tag, removing by a tag
 * the image keeps others of only untags (as docker does), removing otherwise deletes the image. `failing`
 * refs make removeImage throw.
 */
class TagEngine {
  readonly calls: string[] = [];
  readonly failing = new Set<string>();
  constructor(readonly images: Map<string, string[]>) {}

  async listImages(): Promise<ImageInfo[]> {
    return [...this.images].map(([id, repoTags]) => ({
      id,
      repoTags: [...repoTags],
      os: 'linux',
      architecture: 'amd64',
      size: 1,
      labels: {},
    }));
  }

  async tagImage(ref: string, repo: string, tag: string): Promise<void> {
    this.calls.push(`tag ${ref} ${repo}:${tag}`);
    if (!this.images.has(ref)) throw new Error(`no such image: ${ref}`);
    this.untag(`${repo}:${tag}`);
    this.images.get(ref)?.push(`${repo}:${tag}`);
  }

  async removeImage(ref: string, options: { force?: boolean } = {}): Promise<void> {
    this.calls.push(`rm ${ref}${options.force ? ' force' : ''}`);
    if (this.failing.has(ref)) throw new Error(`conflict: unable to delete ${ref}`);
    const byTag = [...this.images].find(([, tags]) => tags.includes(ref));
    if (byTag && byTag[1].length > 1) return this.untag(ref);
    this.images.delete(byTag?.[0] ?? ref);
  }

  private untag(tag: string): void {
    for (const [id, tags] of this.images)
      this.images.set(
        id,
        tags.filter((t) => t !== tag),
      );
  }

  asEngine(): DockerEngine {
    return this as unknown as DockerEngine;
  }
}

const id = (c: string) => `sha256:${c.repeat(64)}`;

describe('restoreImageSnapshot (undo of a failed import)', () => {
  it('removes an image loaded under another ID than the manifest one carrying a bundle tag', async () => {
    const engine = new TagEngine(new Map([[id('a'), ['base:1']]]));
    const before = await takeImageSnapshot(engine.asEngine());
    // The damaged config loaded as image z, tagged with the bundle's tag; another process added image o.
    engine.images.set(id('z'), ['app:1']);
    engine.images.set(id('o'), ['other:1']);
    const undone = await restoreImageSnapshot(engine.asEngine(), before, {
      ids: new Set([id('b')]),
      tags: new Set(['app:1']),
    });
    expect(undone).toEqual({ removed: [id('z')], retagged: [] });
    expect(Object.fromEntries(engine.images)).toEqual({ [id('a')]: ['base:1'], [id('o')]: ['other:1'] });
  });

  it('points bundle tags back, and any tag that sat on an image it removes', async () => {
    const engine = new TagEngine(
      new Map([
        [id('a'), ['app:1']],
        [id('u'), ['mine:latest']],
      ]),
    );
    const before = await takeImageSnapshot(engine.asEngine());
    // The load moved the bundle's tag, and a damaged archive's tag list moved a user's tag too.
    engine.images.set(id('a'), []);
    engine.images.set(id('u'), []);
    engine.images.set(id('z'), ['app:1', 'mine:latest']);
    const undone = await restoreImageSnapshot(engine.asEngine(), before, {
      ids: new Set([id('b')]),
      tags: new Set(['app:1']),
    });
    expect(undone).toEqual({ removed: [id('z')], retagged: ['app:1', 'mine:latest'] });
    expect(Object.fromEntries(engine.images)).toEqual({
      [id('a')]: ['app:1'],
      [id('u')]: ['mine:latest'],
    });
  });

  it('takes a bundle tag that named nothing before off an image that existed before', async () => {
    const engine = new TagEngine(new Map([[id('b'), ['keep:1']]]));
    const before = await takeImageSnapshot(engine.asEngine());
    engine.images.set(id('b'), ['keep:1', 'app:1']);
    const undone = await restoreImageSnapshot(engine.asEngine(), before, {
      ids: new Set([id('b')]),
      tags: new Set(['app:1']),
    });
    expect(undone).toEqual({ removed: [], retagged: ['app:1'] });
    expect(engine.calls).toEqual(['rm app:1']);
    expect(Object.fromEntries(engine.images)).toEqual({ [id('b')]: ['keep:1'] });
  });

  it('never deletes an image that existed before to take its last tag off: says so instead', async () => {
    const engine = new TagEngine(new Map([[id('b'), []]]));
    const before = await takeImageSnapshot(engine.asEngine());
    engine.images.set(id('b'), ['app:1']);
    await expect(
      restoreImageSnapshot(engine.asEngine(), before, { ids: new Set([id('b')]), tags: new Set(['app:1']) }),
    ).rejects.toMatchObject({ code: 'EDOCKER', problems: [{ file: id('b'), found: 'app:1' }] });
    expect(engine.calls).toEqual([]);
    expect(Object.fromEntries(engine.images)).toEqual({ [id('b')]: ['app:1'] });
  });

  it('tries every removal when some fail, and names each failure in one error', async () => {
    const engine = new TagEngine(new Map([[id('a'), ['base:1']]]));
    const before = await takeImageSnapshot(engine.asEngine());
    for (const c of ['b', 'c', 'd']) engine.images.set(id(c), [`app-${c}:1`]);
    engine.failing.add(id('b'));
    engine.failing.add(id('c'));
    const undo = restoreImageSnapshot(engine.asEngine(), before, {
      ids: new Set([id('b'), id('c'), id('d')]),
      tags: new Set(['app-b:1', 'app-c:1', 'app-d:1']),
    });
    await expect(undo).rejects.toMatchObject({
      code: 'EDOCKER',
      problems: [{ file: `remove ${id('b')}` }, { file: `remove ${id('c')}` }],
    });
    await expect(undo).rejects.toThrow(/2 step\(s\) failed \(removed 1 image\(s\), restored 0 tag\(s\)\)/);
    expect(engine.calls).toEqual([`rm ${id('b')} force`, `rm ${id('c')} force`, `rm ${id('d')} force`]);
    expect([...engine.images.keys()].sort()).toEqual([id('a'), id('b'), id('c')]);
  });
});
