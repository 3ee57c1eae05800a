#!/usr/bin/env node
// The simdtensor command: `simdtensor optimize [options]` (see docs/models.md). Runs the compiled package in dist/.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv[0] === '--version' || argv[0] === '-v') {
  // Answered before loading the package, so it works even where the native addon does not load.
  console.log(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  process.exit(0);
}
let runCli;
try {
  ({ runCli } = await import('../dist/src/index.js'));
} catch (e) {
  const msg = String(e?.message ?? e);
  // A missing addon explains itself (what to install, how to build); a missing dist/ means an unbuilt checkout.
  console.error(msg.startsWith('simdtensor:') ? msg : `simdtensor: cannot load the compiled package (${msg}); in a checkout, run \`npm run build\``);
  process.exit(1);
}
process.exitCode = await runCli(argv);
