#!/usr/bin/env node
// The simdtensor command: `simdtensor optimize [options]` (see docs/models.md). Runs the compiled package in dist/.
let runCli;
try {
  ({ runCli } = await import('../dist/src/index.js'));
} catch (e) {
  console.error(`simdtensor: cannot load the compiled package (${e.message}); run \`npm run build\` first`);
  process.exit(1);
}
process.exitCode = await runCli(process.argv.slice(2));
