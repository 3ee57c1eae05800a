#!/usr/bin/env node
// Compiles src/ and bench/ to dist/ (ESM + .d.ts) and writes the CommonJS entries (dist/cjs/index.cjs, and
// dist/cjs/tfjs.cjs for the `simdtensor/tfjs` subpath), which load the ESM build through require(esm) (Node >= 20.19).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `npx simdtensor` inside a checkout links it into npx's cache and runs its prepare script: keep the checkout's dist/
// rather than recompile it silently on every first npx run (`npm run build:ts` rebuilds it).
if (process.env.npm_lifecycle_event === 'prepare' && process.env.npm_command === 'exec' && existsSync(join(root, 'dist', 'src', 'index.js'))) process.exit(0);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
} catch {
  console.error('build-ts: tsc reported errors (see above)');
  process.exit(1);
}
// tsc never deletes: output of a source that was moved or removed would stay in dist/ (and be packed). Drop every
// compiled file under dist/src and dist/bench whose .ts source is gone, then any folder left empty.
function pruneStale(distDir, srcDir) {
  if (!existsSync(distDir)) return;
  for (const e of readdirSync(distDir, { withFileTypes: true })) {
    const out = join(distDir, e.name);
    if (e.isDirectory()) {
      pruneStale(out, join(srcDir, e.name));
      if (readdirSync(out).length === 0) rmSync(out, { recursive: true });
      continue;
    }
    const m = /^(.*?)(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/.exec(e.name);
    if (m && !existsSync(join(srcDir, `${m[1]}.ts`))) rmSync(out);
  }
}
for (const d of ['src', 'bench']) pruneStale(join(root, 'dist', d), join(root, d));
mkdirSync(join(root, 'dist', 'cjs'), { recursive: true });
writeFileSync(
  join(root, 'dist', 'cjs', 'index.cjs'),
  "'use strict';\n// CommonJS entry: the package is ESM; Node >= 20.19 can require() it synchronously.\nmodule.exports = require('../src/index.js');\n",
);
writeFileSync(
  join(root, 'dist', 'cjs', 'tfjs.cjs'),
  "'use strict';\n// CommonJS entry of simdtensor/tfjs (the TensorFlow.js backend), through require(esm) like index.cjs.\nmodule.exports = require('../src/tfjs/index.js');\n",
);
