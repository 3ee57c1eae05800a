#!/usr/bin/env node
// Builds and runs the native kernel tests: x64 under ASan/UBSan, then ARM64 cross-compiled and run under qemu-aarch64.
// Usage: node scripts/native-tests.mjs [--arch x64|arm64|all] [--no-sanitize] [filter]
// A missing cross toolchain or qemu is an error under CI=true (the CI script installs them), a visible skip otherwise.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let arch = 'all';
let sanitize = true;
let filter = '';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--arch') arch = args[++i];
  else if (args[i] === '--no-sanitize') sanitize = false;
  else filter = args[i];
}
const jobs = String(Math.max(1, Number(execFileSync('nproc').toString().trim()) || 2));
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function build(dir, extra) {
  mkdirSync(dir, { recursive: true });
  const cfg = ['-S', root, '-B', dir, '-DSIMDTENSOR_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release', ...extra];
  execFileSync('cmake', cfg, { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('cmake', ['--build', dir, '-j', jobs], { stdio: ['ignore', 'ignore', 'inherit'] });
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
  build(dir, sanitize ? ['-DSIMDTENSOR_SANITIZE=ON'] : []);
  const bin = join(dir, 'simdtensor_native_tests');
  run(`x64${sanitize ? ', ASan+UBSan' : ''}`, bin, filter ? [filter] : [], {
    ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  });
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
    build(dir, [`-DCMAKE_TOOLCHAIN_FILE=${join(root, 'scripts', 'aarch64-toolchain.cmake')}`, '-DSIMDTENSOR_ARCH=arm64']);
    const bin = join(dir, 'simdtensor_native_tests');
    // -cpu max: dotprod, fp16 and i8mm present, so every NEON variant runs.
    run('arm64 under qemu-aarch64 -cpu max', 'qemu-aarch64', ['-cpu', 'max', '-L', '/usr/aarch64-linux-gnu', bin, ...(filter ? [filter] : [])]);
  }
}
