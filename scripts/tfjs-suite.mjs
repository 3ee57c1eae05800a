#!/usr/bin/env node
// Runs TensorFlow.js's own backend test suite (@tensorflow/tfjs-core dist/tests.js, ~265 test files) against the
// 'simdtensor' backend (src/tfjs, compiled to dist/ by `npm run build:ts`): bundles it with esbuild, runs it under
// jasmine 4.2, prints "N passed, N failed" and exits nonzero on a failure or when no spec ran.
//
//   node scripts/tfjs-suite.mjs                 # every spec but the exclude list below
//   node scripts/tfjs-suite.mjs --only conv2d   # specs whose full name contains "conv2d"
//   node scripts/tfjs-suite.mjs --fallback      # every kernel left to the CPU backend (the pure fallback backend)
//   node scripts/tfjs-suite.mjs --verbose       # list the failures in full
import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const value = (f) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);

// Specs left out, each for a reason that has nothing to do with this backend's kernels (substring of the full name).
const EXCLUDE = [];

const backend = join(root, 'dist', 'src', 'tfjs', 'backend.js');
if (!existsSync(backend)) {
  console.error(`tfjs-suite: ${backend} is missing: run \`npm run build:ts\` first`);
  process.exit(1);
}

const outDir = join(root, 'build-tfjs-suite');
mkdirSync(outDir, { recursive: true });
const bundle = join(outDir, 'suite.cjs');
const t0 = performance.now();
const esbuild = require('esbuild');
await esbuild.build({
  entryPoints: [join(root, 'test', 'tfjs', 'suite-entry.mjs')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  mainFields: ['module', 'main'],
  // tfjs-core's package.json "sideEffects" would let esbuild drop the bare test-file imports of dist/tests.js.
  ignoreAnnotations: true,
  external: ['jasmine-core', 'jasmine-core/*'],
  logLevel: 'error',
  // The backend is required at run time by path (SIMDTENSOR_TFJS_BACKEND): not bundled.
  logOverride: { 'unsupported-require-call': 'silent' },
});
const tBundle = performance.now() - t0;

process.env.SIMDTENSOR_TFJS_BACKEND = backend;
process.env.SIMDTENSOR_TFJS_EXCLUDE = JSON.stringify(EXCLUDE);
if (value('--only')) process.env.SIMDTENSOR_TFJS_ONLY = value('--only');
if (flag('--fallback')) process.env.SIMDTENSOR_TFJS_EXCLUDE_KERNELS = JSON.stringify(['*']);

const Jasmine = require('jasmine');
const runner = new Jasmine({ projectBaseDir: root });
runner.exitOnCompletion = false;
runner.loadConfig({ spec_files: [bundle], random: false, stopSpecOnExpectationFailure: false });
runner.env.clearReporters();
let passed = 0, failed = 0, skipped = 0;
const failures = [];
runner.env.addReporter({
  specDone(r) {
    if (r.status === 'passed') passed++;
    else if (r.status === 'failed') {
      failed++;
      failures.push(r);
    } else skipped++;
  },
  suiteDone(r) {
    // An afterAll failure belongs to no spec: count it.
    if (r.status === 'failed' && r.failedExpectations.length) {
      failed++;
      failures.push({ fullName: `${r.fullName} (suite)`, failedExpectations: r.failedExpectations });
    }
  },
});
const t1 = performance.now();
const result = await runner.execute();
const tRun = performance.now() - t1;
const verbose = flag('--verbose');
for (const f of failures.slice(0, verbose ? Infinity : 40)) {
  const msg = f.failedExpectations[0]?.message ?? '';
  console.log(`FAILED ${f.fullName}\n    ${verbose ? msg : msg.split('\n')[0].slice(0, 300)}`);
}
if (!verbose && failures.length > 40) console.log(`... and ${failures.length - 40} more (--verbose lists all)`);
const { kernelStats } = await import(backend);
const stats = Object.entries(kernelStats()).map(([k, v]) => `${k} ${v.native}/${v.native + v.fallback}`);
console.log(`native kernels (calls run natively / calls): ${stats.join(', ')}`);
console.log(`tfjs-suite: bundle ${(tBundle / 1000).toFixed(1)} s, run ${(tRun / 1000).toFixed(1)} s, ${skipped} filtered out or pending (exclude list: ${EXCLUDE.length} patterns)`);
console.log(`${passed} passed, ${failed} failed`);
if (result.incompleteReason) console.log(`incomplete: ${result.incompleteReason}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
