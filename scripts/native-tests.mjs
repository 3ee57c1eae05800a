#!/usr/bin/env node
// Builds and runs the native kernel tests: x64 under ASan/UBSan, then ARM64 cross-compiled and run under qemu-aarch64.
// Usage: node scripts/native-tests.mjs [--arch x64|arm64|all] [--no-sanitize] [filter]
// A missing cmake, cross toolchain or qemu is an error under CI=true (the CI script installs them), a one-line skip
// otherwise. The builds show a progress line (the first ASan build takes several minutes on 2 cores).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cmakeStep, runWithProgress } from './progress.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  options: { arch: { type: 'string', default: 'all' }, 'no-sanitize': { type: 'boolean', default: false } },
  allowPositionals: true,
});
const arch = values.arch;
const sanitize = !values['no-sanitize'];
const filter = positionals[0] ?? '';
if (!['x64', 'arm64', 'all'].includes(arch)) {
  console.error(`native-tests: --arch must be x64, arm64 or all, got '${arch}'`);
  process.exit(2);
}
const jobs = String(Math.max(1, Number(execFileSync('nproc').toString().trim()) || 2));
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// Without cmake there is nothing to build the tests with: a one-line skip outside CI, an error in CI (which installs it).
if (!has('cmake')) {
  const msg = 'native tests SKIPPED: cmake not found (apt-get install cmake)';
  if (process.env.CI) {
    console.error(msg);
    process.exit(1);
  }
  console.log(msg);
  process.exit(0);
}

// ccache, when on PATH, compiles through CMake's launcher, so a fresh or wiped build dir recompiles from the cache
// (an ASan tree is 10+ minutes on 2 cores otherwise). Without it the launcher is set empty: a tree configured while
// ccache was present then builds with the plain compiler. CI does not install ccache (a clean machine has no cache).
const launcher = has('ccache') ? 'ccache' : '';
const launcherArgs = ['C', 'CXX'].map((lang) => `-DCMAKE_${lang}_COMPILER_LAUNCHER=${launcher}`);

/** Configures and builds one test tree, showing a progress line (the first ASan build takes minutes). */
async function build(label, dir, extra) {
  mkdirSync(dir, { recursive: true });
  const cfg = ['-S', root, '-B', dir, '-DSIMDTENSOR_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release', ...launcherArgs, ...extra];
  execFileSync('cmake', cfg, { stdio: ['ignore', 'ignore', 'inherit'] });
  const status = await runWithProgress(`building native tests (${label})`, 'cmake', ['--build', dir, '-j', jobs], { step: cmakeStep });
  if (status !== 0) process.exit(1);
}

function run(label, cmd, cmdArgs, env = {}) {
  console.log(`\n== native tests (${label}) ==`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`native tests (${label}) failed with status ${r.status}`);
    process.exit(1);
  }
}

if (arch === 'x64' || arch === 'all') {
  const dir = join(root, sanitize ? 'build-native-asan' : 'build-native');
  await build(`x64${sanitize ? ', ASan+UBSan' : ''}`, dir, sanitize ? ['-DSIMDTENSOR_SANITIZE=ON'] : []);
  const bin = join(dir, 'simdtensor_native_tests');
  const sanEnv = { ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' };
  run(`x64${sanitize ? ', ASan+UBSan' : ''}`, bin, filter ? [filter] : [], sanEnv);
  // The C ABI's example program, against libsimdtensor.so and libsimdtensor.a.
  for (const ex of ['simdtensor_c_example', 'simdtensor_c_example_static']) run(`C ABI, ${ex}`, join(dir, ex), [], sanEnv);
}
if (arch === 'arm64' || arch === 'all') {
  if (!has('aarch64-linux-gnu-g++') || !has('qemu-aarch64')) {
    const msg = 'ARM64 native tests SKIPPED: aarch64-linux-gnu-g++ or qemu-aarch64 missing (apt-get install g++-aarch64-linux-gnu qemu-user)';
    if (process.env.CI) {
      console.error(msg);
      process.exit(1);
    }
    console.log(msg);
  } else {
    const dir = join(root, 'build-native-arm64');
    await build('arm64, cross-compiled', dir, [`-DCMAKE_TOOLCHAIN_FILE=${join(root, 'scripts', 'aarch64-toolchain.cmake')}`, '-DSIMDTENSOR_ARCH=arm64']);
    const bin = join(dir, 'simdtensor_native_tests');
    // -cpu max: dotprod, fp16 and i8mm present, so every NEON variant runs.
    run('arm64 under qemu-aarch64 -cpu max', 'qemu-aarch64', ['-cpu', 'max', '-L', '/usr/aarch64-linux-gnu', bin, ...(filter ? [filter] : [])]);
    for (const ex of ['simdtensor_c_example', 'simdtensor_c_example_static'])
      run(`C ABI, ${ex}, arm64 under qemu-aarch64`, 'qemu-aarch64', ['-cpu', 'max', '-L', '/usr/aarch64-linux-gnu', join(dir, ex)]);
  }
}
