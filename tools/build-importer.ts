// `make build`: writes dist/offline.mjs, the whole CLI in one file that every exported bundle carries.
import { toolVersion } from '../src/cli/version.js';
import { buildImporter, builtImporterPath } from '../src/selfcontained/importer-build.js';

const out = process.argv[2] ?? builtImporterPath();
await buildImporter(out, toolVersion());
process.stdout.write(`wrote ${out}\n`);
