#!/usr/bin/env node
// Proves the npm package installs and runs without a compiler: packs the checkout (with this machine's prebuilt
// binary), checks what the tarball holds, installs it offline into a fresh project with a PATH that has node, npm
// and sh but no compiler, make or python, then imports it as ESM and CommonJS and runs scripts/smoke.mjs (f32 and
// f16 matmul, int8 linear, an async op), and under Bun and Deno where their binaries are installed. Also checks that,
// with no prebuilt binary and no compiler, the install script fails saying what to install. About 20-40 s.
//
// The prebuilt binary packed here is this checkout's build/Release/simdtensor.node, stripped into
// prebuilds/linux-<arch>/ — the same node-gyp build prebuildify makes in `npm pack`'s prepack step
// (scripts/prebuild.mjs), without compiling the addon again. Nothing is downloaded (--offline): the package's two
// dependencies (node-gyp-build, node-addon-api) are packed from this checkout's node_modules and installed with it.
// Usage: node scripts/pack-test.mjs [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const require = createRequire(import.meta.url);
const t0 = Date.now();
let passed = 0;
const failures = [];
const check = (name, ok, detail = '') => {
  if (ok) passed++;
  else failures.push(`${name}${detail ? `: ${detail}` : ''}`);
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? ` — ${detail}` : ''}`);
};
const finish = () => {
  console.log(`\npack test: ${passed} passed, ${failures.length} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
  process.exit(failures.length ? 1 : 0);
};

console.log('== pack test: npm pack, install offline with no compiler on PATH, import, run ==');
if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
  console.log(`pack test SKIPPED: prebuilt binaries are made for linux-x64 and linux-arm64 only (this is ${process.platform}-${process.arch})`);
  process.exit(0);
}
const built = join(root, 'build', 'Release', 'simdtensor.node');
if (!existsSync(built)) {
  console.error(`pack test: ${built} is missing; build the addon first (npm run build:native)`);
  process.exit(1);
}
if (!existsSync(join(root, 'dist', 'src', 'index.js'))) {
  console.error('pack test: dist/ is missing; run npm run build:ts first');
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'simdtensor-pack-'));

// 1. This machine's prebuilt binary, as prebuildify names it (node-gyp-build reads the tags from the name).
const prebuildDir = join(root, 'prebuilds', `linux-${process.arch}`);
const prebuild = join(prebuildDir, 'simdtensor.glibc.node');
if (!existsSync(prebuild) || statSync(prebuild).mtimeMs < statSync(built).mtimeMs) {
  mkdirSync(prebuildDir, { recursive: true });
  const strip = spawnSync('strip', ['--strip-all', '-o', prebuild, built]);
  if (strip.status !== 0) copyFileSync(built, prebuild);
}

// 2. Pack without the lifecycle scripts (prepack would rebuild every architecture).
const packJson = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const pack = JSON.parse(packJson)[0];
const tarball = join(work, pack.filename);
const files = pack.files.map((f) => f.path);
console.log(`packed ${pack.filename}: ${(pack.size / 1024).toFixed(0)} kB, ${pack.entryCount} files, unpacked ${(pack.unpackedSize / 1024).toFixed(0)} kB`);
check('tarball under 5 MB', pack.size <= 5 * 1024 * 1024, `${pack.size} bytes`);
check(`tarball holds prebuilds/linux-${process.arch}/simdtensor.glibc.node`, files.includes(`prebuilds/linux-${process.arch}/simdtensor.glibc.node`));
check('tarball holds LICENSE, README.md, the ESM and CJS entries and the typings', ['LICENSE', 'README.md', 'dist/src/index.js', 'dist/cjs/index.cjs', 'dist/src/index.d.ts'].every((f) => files.includes(f)));
check('tarball holds the sources a from-source build needs', ['binding.gyp', 'native/sources.json', 'scripts/sources.cjs', 'scripts/build-addon.sh', 'scripts/install.mjs'].every((f) => files.includes(f)));
const stray = files.filter((f) => f.startsWith('dist/bench/') || f.startsWith('native/tests/') || f.startsWith('test/') || f.startsWith('bench/') || f.startsWith('build') || f.endsWith('.tgz'));
check('tarball holds no benchmarks, tests or build folders', stray.length === 0, stray.slice(0, 5).join(', '));
const maps = files.filter((f) => f.endsWith('.map'));
const orphanMaps = maps.filter((f) => {
  const map = JSON.parse(readFileSync(join(root, f), 'utf8'));
  return map.sources.some((s) => !files.includes(join(dirname(f), map.sourceRoot ?? '', s).replace(/\\/g, '/')));
});
check('every source map points at files the tarball holds', orphanMaps.length === 0, orphanMaps.slice(0, 3).join(', '));

// 3. A PATH with node, npm and sh only: no compiler, make or python can be found.
const bin = join(work, 'bin');
mkdirSync(bin);
const which = (c) => execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim();
for (const tool of ['node', 'npm', 'sh']) symlinkSync(which(tool), join(bin, tool));
const env = { ...process.env, PATH: bin };
for (const k of ['CC', 'CXX', 'LINK', 'AR', 'npm_config_node_gyp', 'SIMDTENSOR_ADDON']) delete env[k];
// npm's environment from a parent `npm test` would make the inner npm act on this checkout.
for (const k of Object.keys(env)) if (k.startsWith('npm_') && k !== 'npm_config_cache') delete env[k];
const noTools = spawnSync(join(bin, 'sh'), ['-c', 'command -v cc || command -v c++ || command -v g++ || command -v gcc || command -v make || command -v python3'], { env });
check('the install PATH has no compiler, make or python3', noTools.status !== 0, String(noTools.stdout));

// 4. Install the tarball offline into a fresh project, install script allowed (newer npm skips dependencies'
// install scripts unless allowed; this proves the script needs no compiler when a prebuild matches).
const app = join(work, 'app');
mkdirSync(app);
// allowScripts: newer npm runs a dependency's install script only when the project allows it, matching a tarball by
// its resolved spec (older npm ignores the field and runs it anyway).
const allowScripts = { [`file:${relative(app, tarball)}`]: true };
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-test-app', version: '1.0.0', private: true, allowScripts }, null, 2));
// The package's dependencies, and theirs (node-gyp-build, node-addon-api, onnx-proto → protobufjs → …), are packed
// from this checkout's node_modules and installed beside it: with --offline nothing can be fetched, and the test
// must not depend on what the npm cache holds.
const depDirs = new Map();
const walk = (names, from) => {
  for (const d of names) {
    const dir = dirname(require.resolve(`${d}/package.json`, { paths: [from] }));
    if (depDirs.has(dir)) continue;
    depDirs.set(dir, d);
    walk(Object.keys(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies ?? {}), dir);
  }
};
walk(Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies ?? {}), root);
const deps = [...depDirs.keys()].map((dir) => {
  const out = JSON.parse(execFileSync('npm', ['pack', dir, '--ignore-scripts', '--json', '--pack-destination', work], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  return join(work, out[0].filename);
});
const npmArgs = ['install', tarball, ...deps, '--offline', '--no-audit', '--no-fund', '--foreground-scripts'];
const inst = spawnSync('npm', npmArgs, { cwd: app, env, encoding: 'utf8' });
const instOut = `${inst.stdout}\n${inst.stderr}`;
check('npm install of the tarball (offline, no compiler) succeeds', inst.status === 0, instOut.trim().split('\n').slice(-6).join(' | '));
if (inst.status !== 0) finish();
const installed = join(app, 'node_modules', 'simdtensor');
check('the install script ran', /simdtensor@[^\n]* install\n> node scripts\/install\.mjs/.test(instOut), instOut.split('\n').filter((l) => l.startsWith('>')).join(' | '));
check('the install script built nothing (no build/ folder)', !existsSync(join(installed, 'build')));
const warns = instOut.split('\n').filter((l) => /npm warn/i.test(l));
if (warns.length) console.log(`       npm warned:\n       ${warns.join('\n       ')}`);

// 5. Import it both ways and run the smoke checks.
copyFileSync(join(root, 'scripts', 'smoke.mjs'), join(app, 'smoke.mjs'));
const esm = spawnSync('node', ['smoke.mjs', 'simdtensor'], { cwd: app, env, encoding: 'utf8' });
check('ESM import: f32/f16 matmul, int8 linear, async op', esm.status === 0, `${esm.stdout}${esm.stderr}`.trim());
if (esm.status === 0) console.log(`       ${esm.stdout.trim()}`);
writeFileSync(
  join(app, 'smoke.cjs'),
  [
    "const st = require('simdtensor');",
    'const c = st.matmul(st.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]), st.tensor(new Float32Array([5, 6, 7, 8]), [2, 2]));',
    "if (String(Array.from(c.data)) !== '19,22,43,50') { console.error('wrong product ' + Array.from(c.data)); process.exit(1); }",
    "st.matmulAsync(c, c).then((d) => { if (d.data[0] !== 19 * 19 + 22 * 43) process.exit(1); console.log('cjs ok'); });",
  ].join('\n'),
);
const cjs = spawnSync('node', ['smoke.cjs'], { cwd: app, env, encoding: 'utf8' });
check('CommonJS require: matmul and matmulAsync', cjs.status === 0 && cjs.stdout.includes('cjs ok'), `${cjs.stdout}${cjs.stderr}`.trim());
const loaded = spawnSync('node', ['-e', "console.log(require('node-gyp-build').path('node_modules/simdtensor'))"], { cwd: app, env, encoding: 'utf8' });
check('the addon loaded is the shipped prebuild', loaded.status === 0 && loaded.stdout.includes(`prebuilds/linux-${process.arch}/`), `${loaded.stdout}${loaded.stderr}`.trim());

// 6. Other runtimes, where their binaries are installed (npm's @oven/bun-linux-<arch> and @deno/linux-<arch>-glibc,
// or SIMDTENSOR_BUN / SIMDTENSOR_DENO naming a binary): scripts/runtime-smoke.mjs — the smoke checks, a worker
// thread and the BatchScheduler — on the same installed package.
copyFileSync(join(root, 'scripts', 'runtime-smoke.mjs'), join(app, 'runtime-smoke.mjs'));
const findBin = (envVar, pkg, file) => {
  if (process.env[envVar]) return process.env[envVar];
  try {
    const p = join(dirname(require.resolve(`${pkg}/package.json`, { paths: [root] })), file);
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
};
const runtimes = [
  ['Bun', findBin('SIMDTENSOR_BUN', `@oven/bun-linux-${process.arch === 'x64' ? 'x64' : 'aarch64'}`, 'bin/bun'), ['runtime-smoke.mjs'], 'SIMDTENSOR_BUN'],
  ['Deno', findBin('SIMDTENSOR_DENO', `@deno/linux-${process.arch === 'x64' ? 'x64' : 'arm64'}-glibc`, 'deno'), ['run', '-A', '--node-modules-dir=manual', 'runtime-smoke.mjs'], 'SIMDTENSOR_DENO'],
];
for (const [name, exe, args, envVar] of runtimes) {
  if (!exe) {
    console.log(`  skip ${name}: not installed (set ${envVar} to its binary)`);
    continue;
  }
  const r = spawnSync(exe, args, { cwd: app, env: { ...env, DENO_NO_UPDATE_CHECK: '1' }, encoding: 'utf8', timeout: 180_000 });
  check(`${name}: tensors, f32/f16 matmul, int8 linear, async op, worker, scheduler`, r.status === 0, `${r.stdout}${r.stderr}`.trim());
  if (r.status === 0) console.log(`       ${r.stdout.trim().split('\n').map((l) => l.trim().replace(/ {2,}/g, ' ')).join('; ')}`);
}

// 7. No prebuild for this platform and no compiler: the install script fails and says what to install.
const bare = join(app, 'node_modules', 'simdtensor-bare');
cpSync(installed, bare, { recursive: true });
rmSync(join(bare, 'prebuilds'), { recursive: true, force: true });
const noBuild = spawnSync('node', [join(bare, 'scripts', 'install.mjs')], { cwd: bare, env, encoding: 'utf8' });
check(
  'no prebuild and no compiler: the install script fails naming what to install',
  noBuild.status !== 0 && /apt-get install g\+\+ make python3/.test(noBuild.stderr) && /a C\+\+17 compiler/.test(noBuild.stderr),
  `status ${noBuild.status}: ${noBuild.stderr.trim().split('\n').slice(0, 2).join(' | ')}`,
);
finish();
