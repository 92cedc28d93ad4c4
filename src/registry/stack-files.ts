import { STACK_DIR, TIKTOKEN_DIR } from '../bundle/layout.js';

/**
 * True for the files a deploy places: the stack's (stack/..., at the top of its folder) and the tiktoken cache
 * (tiktoken/..., which the compose file mounts as ./tiktoken), as an import places them.
 */
export function isStackFile(bundlePath: string): boolean {
  return bundlePath.startsWith(`${STACK_DIR}/`) || bundlePath.startsWith(`${TIKTOKEN_DIR}/`);
}
