import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { HashStream } from '../checksum/hash-stream.js';
import { OfflineError } from '../errors.js';
import { resolveInside } from '../fs/safe-path.js';
import {
  checkLists,
  damagedInstead,
  entryMismatch,
  MAX_LIST_BYTES,
  problemSink,
  readOutcome,
  sizeMismatch,
} from './bundle-lists.js';
import { listFolderTree } from './folder-tree.js';
import { CHECKSUMS_FILE, entryRank, MANIFEST_FILE } from './layout.js';
import type { BundleLocation } from './locate.js';
import type { BundleReadHandler, BundleReadResult, ReadOptions } from './reader.js';

const READ_CHUNK = 1024 * 1024;

/**
 * Reads an extracted bundle folder (what `tar xzf` left) with the checks the archive reader makes
 * (docs/bundle-format.md section 4): manifest.json proven by checksums.sha256 first, then every listed file
 * in archive order, hashed while it streams to the handler and compared with both lists. Files neither list
 * names (EUNLISTED), symlinks and other non-regular files (EUNSAFE_PATH, never followed) are reported before
 * any file is read, unless options.ignoreUnlisted says they are not the bundle's; listed files that are
 * missing (EMISSING) as the read reaches them.
 */
export async function readFolderBundle(
  location: BundleLocation,
  handler: BundleReadHandler = {},
  options: ReadOptions = {},
): Promise<BundleReadResult> {
  const failFast = options.failFast ?? true;
  const where = location.archiveName;
  const { problems, report } = problemSink(failFast);
  options.signal?.throwIfAborted();
  const tree = await listFolderTree(location.dir, where);
  const lists = checkLists(
    await readList(location.dir, MANIFEST_FILE, tree.files, where),
    await readList(location.dir, CHECKSUMS_FILE, tree.files, where),
  );
  // The folder's listing is known whole: what is not the bundle's is reported before anything is read or loaded.
  const foreign = (rel: string, kind: 'file' | 'other') =>
    !lists.expected.has(rel) && options.ignoreUnlisted?.(rel, lists.manifest, kind) === true;
  for (const problem of tree.unsafe) if (!foreign(problem.file as string, 'other')) report(problem);
  for (const rel of tree.files.keys()) {
    if (rel === MANIFEST_FILE || rel === CHECKSUMS_FILE || lists.expected.has(rel) || foreign(rel, 'file'))
      continue;
    const why = `in ${location.dir} but not in ${CHECKSUMS_FILE} or ${MANIFEST_FILE}`;
    report(new OfflineError('EUNLISTED', `${rel}: ${why}`, { file: rel }));
  }
  const verified: BundleReadResult['verified'] = [{ path: MANIFEST_FILE, ...lists.manifestDigest }];
  await handler.onLists?.(lists.manifest, lists.checksums);
  let bytes = lists.manifestDigest.size;
  let stoppedBefore: string | undefined;
  const ordered = [...lists.expected.keys()].sort(
    (a, b) => entryRank(a) - entryRank(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  for (const rel of ordered) {
    options.signal?.throwIfAborted();
    if (handler.stopBefore?.(rel)) {
      stoppedBefore = rel;
      break;
    }
    const want = lists.expected.get(rel) as { sha256: string; size: number };
    const found = tree.files.get(rel);
    if (!found) {
      if (!tree.unsafe.some((p) => p.file === rel)) {
        report(
          new OfflineError('EMISSING', `${rel}: listed in ${CHECKSUMS_FILE} but not in ${location.dir}`, {
            file: rel,
            expected: want.sha256,
            found: 'nothing',
          }),
        );
      }
      continue;
    }
    const badSize = sizeMismatch(rel, want, found.size);
    if (badSize) {
      report(badSize);
      continue;
    }
    const hasher = new HashStream((n) => options.onBytes?.(bytes + n));
    hasher.on('error', () => {});
    const source = await openNoFollow(location.dir, rel, where);
    const onAbort = () => source.destroy(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    source.on('error', (error) => hasher.destroy(error));
    source.pipe(hasher);
    try {
      await handler
        .onEntry?.({
          path: rel,
          size: found.size,
          expected: want,
          stream: hasher,
          executable: (found.mode & 0o111) !== 0,
        })
        .catch(async (error: unknown) => {
          throw await damagedInstead(error, rel, want, hasher);
        });
      hasher.resume();
      await finished(hasher);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      source.destroy();
    }
    const digest = hasher.digest;
    bytes += digest.size;
    const mismatch = entryMismatch(rel, want, digest);
    if (mismatch) {
      report(mismatch);
      continue;
    }
    verified.push({ path: rel, sha256: digest.sha256, size: digest.size });
    await handler.onEntryVerified?.(rel, digest);
  }
  return readOutcome(where, problems, lists, verified, stoppedBefore);
}

/** manifest.json or checksums.sha256: a regular file of sane size, read whole (they are small). */
async function readList(
  dir: string,
  name: string,
  files: Map<string, { size: number }>,
  where: string,
): Promise<Buffer> {
  const info = files.get(name);
  if (!info || info.size > MAX_LIST_BYTES) {
    throw new OfflineError(
      'EFORMAT',
      `${where}: not an offline bundle folder (no regular file ${name}${info ? ' of sane size' : ''})`,
      { file: path.join(dir, name), expected: name, found: info ? `${info.size} bytes` : 'nothing' },
    );
  }
  const handle = await open(path.join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** A read stream on a listed file that refuses a symlink put there after the listing (O_NOFOLLOW). */
async function openNoFollow(dir: string, rel: string, where: string) {
  const file = resolveInside(dir, rel, where);
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  return handle.createReadStream({ highWaterMark: READ_CHUNK, autoClose: true });
}
