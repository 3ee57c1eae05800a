#!/bin/sh
# Builds the addon itself with AddressSanitizer + UBSan into build-asan-addon/ and runs a command against it.
#
# Usage: sh scripts/asan-run.sh [--build-only] [command ...]
#   sh scripts/asan-run.sh npx vitest run test/reliability.test.ts
#   sh scripts/asan-run.sh node --expose-gc test/fixtures/transfer-gc.mjs 12
#   sh scripts/asan-run.sh --build-only
#
# The build: CMakeLists.txt with SIMDTENSOR_SANITIZE=ON (-fsanitize=address,undefined, -fno-sanitize-recover=undefined)
# and the N-API headers of the node-api-headers package (no download), incremental; ccache is used when present.
# The command runs with:
#   SIMDTENSOR_ADDON  the ASan build (src/native.ts and the test fixtures load it instead of build/Release)
#   LD_PRELOAD        libasan (node itself is not instrumented, so the runtime must come first)
#   ASAN_OPTIONS      detect_leaks=0 (V8 and Node leave memory at exit by design), abort_on_error=1,
#                     handle_segv=0 (V8 uses SIGSEGV internally for WebAssembly bounds checks)
#   UBSAN_OPTIONS     print_stacktrace=1:halt_on_error=1
# A report prints "ERROR: AddressSanitizer" or "runtime error:" on stderr and ends the process with an abort, so a
# vitest child-process test fails; grep the output for those strings to count reports. Extra options can be appended
# through ASAN_OPTIONS_EXTRA / UBSAN_OPTIONS_EXTRA (":"-separated).
set -e
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR="$ROOT/build-asan-addon"
BUILD_ONLY=0
if [ "$1" = "--build-only" ]; then
  BUILD_ONLY=1
  shift
fi
if command -v ccache >/dev/null 2>&1; then
  LAUNCH="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
else
  LAUNCH=""
fi
INC=$(node -p "require('node-api-headers').include_dir")
# binding/async.cc uses libuv (uv_async_t), whose header node-api-headers lacks: take Node's own include dir.
UV_INC=$(node -p "require('path').join(process.execPath, '..', '..', 'include', 'node')")
[ -f "$UV_INC/uv.h" ] || UV_INC=$(node -p "require('path').join(require('os').homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node')")
[ -f "$UV_INC/uv.h" ] || { echo "asan-addon: uv.h not found (Node's headers: install them or run node-gyp once)" >&2; exit 1; }
JOBS=$(nproc 2>/dev/null || echo 2)
if [ ! -f "$DIR/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$DIR" -DCMAKE_BUILD_TYPE=Release -DSIMDTENSOR_SANITIZE=ON -DSIMDTENSOR_TESTS=OFF \
    "-DCMAKE_JS_INC=$INC;$UV_INC" $LAUNCH >/dev/null
fi
cmake --build "$DIR" --target simdtensor -j "$JOBS" >/dev/null
ADDON="$DIR/simdtensor.node"
[ -f "$ADDON" ] || { echo "asan-addon: $ADDON was not built" >&2; exit 1; }
echo "asan-addon: built $ADDON" >&2
[ "$BUILD_ONLY" = 1 ] && exit 0
[ "$#" -gt 0 ] || { echo "asan-addon: no command given (see the usage in $0)" >&2; exit 2; }
LIBASAN=$(${CXX:-g++} -print-file-name=libasan.so)
export SIMDTENSOR_ADDON="$ADDON"
export LD_PRELOAD="$LIBASAN${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:handle_segv=0${ASAN_OPTIONS_EXTRA:+:$ASAN_OPTIONS_EXTRA}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS_EXTRA:+:$UBSAN_OPTIONS_EXTRA}"
exec "$@"
