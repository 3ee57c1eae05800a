#!/bin/sh
# Builds the addon itself with -fsanitize=address,undefined (cmake-js into build-asan-addon/, CMakeLists.txt's
# SIMDTENSOR_SANITIZE option) and runs the fuzzer against it with libasan preloaded into node.
# Usage: sh scripts/asan-addon.sh [fuzz.mjs arguments]    (default: --calls 10000 --seed 1)
#        sh scripts/asan-addon.sh --build-only
# Every ASan/UBSan report is counted by the fuzz driver ("sanitizer reports"); an ASan error aborts its batch and
# shows as a crash whose signature is the ASan summary line. Leak checking is off: node itself leaks by design.
set -e
cd "$(dirname "$0")/.."
DIR=build-asan-addon
# binding/async.cc includes <uv.h>, which node-api-headers (what cmake-js uses for Node-API builds) lacks: add the
# running node's own include directory (after the Node-API headers, as a system directory; cmake-js overrides
# CMAKE_CXX_FLAGS, so through the compiler's CPLUS_INCLUDE_PATH).
NODE_INC=$(node -p "require('path').join(process.execPath, '..', '..', 'include', 'node')")
[ -f "$NODE_INC/uv.h" ] || NODE_INC=${npm_config_nodedir:-/usr}/include/node
# configure every time (cheap; `compile` would keep a stale cache's options), then an incremental build.
export CPLUS_INCLUDE_PATH="$NODE_INC${CPLUS_INCLUDE_PATH:+:$CPLUS_INCLUDE_PATH}"
# SIMDTENSOR_ASAN_RECOVER=0: UBSan aborts at its first report, as in the native tests (what ccache may already hold).
RECOVER=ON
[ "${SIMDTENSOR_ASAN_RECOVER:-1}" = 0 ] && RECOVER=OFF
{ npx cmake-js configure --out "$DIR" --CDSIMDTENSOR_SANITIZE=ON --CDSIMDTENSOR_SANITIZE_RECOVER=$RECOVER --CDCMAKE_BUILD_TYPE=Release &&
  npx cmake-js build --out "$DIR"; } >"$DIR.log" 2>&1 || {
  tail -30 "$DIR.log"
  echo "asan-addon: build failed (full log: $DIR.log)" >&2
  exit 1
}
ADDON=$(find "$DIR" -name simdtensor.node | head -1)
[ -n "$ADDON" ] || { echo "asan-addon: no simdtensor.node under $DIR" >&2; exit 1; }
echo "asan-addon: built $ADDON"
[ "$1" = "--build-only" ] && exit 0
[ -f dist/src/index.js ] || npm run build:ts
LIBASAN=$(gcc -print-file-name=libasan.so)
LIBUBSAN=$(gcc -print-file-name=libubsan.so)
[ $# -gt 0 ] || set -- --calls 10000 --seed 1
# UBSan is built recoverable here (SIMDTENSOR_SANITIZE_RECOVER) and runs with halt_on_error=0: one run counts every
# distinct UB site (each printed once per process); ASan memory errors still abort their batch, which shows as a
# crash. Children inherit the environment.
SIMDTENSOR_ADDON="$PWD/$ADDON" \
LD_PRELOAD="$LIBASAN $LIBUBSAN" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:handle_segv=1:detect_odr_violation=0" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0" \
  exec node scripts/fuzz.mjs "$@"
