#!/usr/bin/env node
// npm's install step. Installed from the registry: exits at once when the prebuilt binary of this platform loads
// (node-gyp-build's rule), so no compiler is needed; otherwise builds from source, and if the tools for that are
// missing, says exactly what to install. In a git checkout it always builds (incrementally): the kernels there are
// the ones being worked on, and prebuilds/ holds only what the last `npm pack` made.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const checkout = existsSync(join(root, '.git'));
const fromSource = process.env.npm_config_build_from_source === 'true' || process.argv.includes('--build-from-source');

// `npx simdtensor` inside a checkout links the checkout into npx's cache and runs this script for it: use the
// checkout's own build if there is one, rather than a silent rebuild (`npm run build:native` rebuilds it).
if (checkout && process.env.npm_command === 'exec' && existsSync(join(root, 'build', 'Release', 'simdtensor.node'))) process.exit(0);

if (!checkout && !fromSource) {
  try {
    require(require('node-gyp-build').path(root));
    process.exit(0);
  } catch (e) {
    // No build and no prebuild for this platform, or one that does not load here (e.g. another libc): build it.
    const why = String(e?.message ?? e).split('\n')[0];
    console.error(`simdtensor: no usable prebuilt binary (${why}); building from source`);
  }
}

/** The first of `names` found on PATH, or null (what `command -v` says, without needing a shell). */
function which(...names) {
  for (const name of names) {
    if (!name) continue;
    if (name.includes('/')) {
      if (existsSync(name)) return name;
      continue;
    }
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      const p = join(dir || '.', name);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        /* not here */
      }
    }
  }
  return null;
}

const cxx = (process.env.CXX ?? '').split(' ')[0];
const missing = [
  which(cxx, 'c++', 'g++', 'clang++') ? null : 'a C++17 compiler',
  which('make') ? null : 'make',
  which('python3', 'python') ? null : 'python3',
].filter(Boolean);
if (missing.length) {
  const platform = `${process.platform}-${process.arch}`;
  console.error(
    [
      `simdtensor: no prebuilt binary for ${platform}, and building from source needs ${missing.join(', ')}, not found on PATH.`,
      'Install the build tools, then run `npm rebuild simdtensor`:',
      '  Debian/Ubuntu: apt-get install g++ make python3',
      '  Fedora/RHEL:   dnf install gcc-c++ make python3',
      '  Alpine:        apk add g++ make python3',
      '  macOS:         xcode-select --install',
      'Prebuilt binaries ship for linux-x64 and linux-arm64 with glibc.',
    ].join('\n'),
  );
  process.exit(1);
}

const r = spawnSync('sh', [join(root, 'scripts', 'build-addon.sh')], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
