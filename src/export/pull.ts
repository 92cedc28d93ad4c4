import type { PullPolicy } from '../bundle/definition.js';
import type { DockerEngine, ImageInfo } from '../docker/engine.js';
import { OfflineError } from '../errors.js';

function platformMatches(info: ImageInfo, platform: string | undefined): boolean {
  if (!platform) return true;
  const [os, arch, variant] = platform.split('/');
  return info.os === os && info.architecture === arch && (!variant || info.variant === variant);
}

/**
 * Makes an image present locally under `ref` by the pull policy: `missing` pulls only when it is absent (or
 * of another platform than --platform asks), `always` pulls, `never` only checks. Errors inside the pull
 * stream reject (the engine module checks every object). Returns whether it pulled.
 */
export async function ensureImage(
  engine: DockerEngine,
  ref: string,
  policy: PullPolicy,
  platform: string | undefined,
  onStatus?: (line: string) => void,
): Promise<boolean> {
  const local = await engine.inspectImage(ref);
  const usable = local !== undefined && platformMatches(local, platform);
  if (policy === 'never' || (policy === 'missing' && usable)) {
    if (!usable) {
      throw new OfflineError(
        'EDOCKER',
        local
          ? `image ${ref} is ${local.os}/${local.architecture}, not ${platform}, and the pull policy is "never"`
          : `image ${ref} is not present locally and the pull policy is "never"`,
        { file: ref, hint: 'pull it first, or use --pull missing' },
      );
    }
    return false;
  }
  await engine.pullImage(ref, platform ? { platform } : {}, (event) => {
    if (event.status)
      onStatus?.(`${event.id ? `${event.id}: ` : ''}${event.status} ${event.progress ?? ''}`.trim());
  });
  const pulled = await engine.inspectImage(ref);
  if (!pulled) throw new OfflineError('EDOCKER', `pull ${ref}: image missing after the pull`, { file: ref });
  if (!platformMatches(pulled, platform)) {
    throw new OfflineError('EPLATFORM', `pull ${ref}: got ${pulled.os}/${pulled.architecture}`, {
      file: ref,
      expected: platform,
      found: `${pulled.os}/${pulled.architecture}`,
    });
  }
  return true;
}
