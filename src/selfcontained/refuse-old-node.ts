// offline.mjs's loader imports this first: on a Node too old for offline, it says so and ends the run before
// the loader asks for any built-in module (an ES module run has those from process.getBuiltinModule, which
// Node 20 has from 20.16 on).
import { nodeTooOld } from './node-version.js';

const tooOld = nodeTooOld(process.versions.node);
if (tooOld !== undefined) {
  process.stderr.write(`error: ${tooOld}\n`);
  process.exit(1);
}
