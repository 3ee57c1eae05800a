#!/bin/sh
# Builds the addon with node-gyp under a lock, so parallel builds in one checkout never clobber build/.
# Usage: scripts/build-addon.sh [rebuild]   (default: configure if needed, then an incremental build)
set -e
cd "$(dirname "$0")/.."
# node-gyp: the checkout's own (a devDependency); installed as a dependency, the one npm runs install scripts with
# (npm puts its bundled node-gyp on PATH and names it in npm_config_node_gyp); npx only as the last resort.
GYP="node_modules/.bin/node-gyp"
if [ ! -x "$GYP" ]; then
  if command -v node-gyp >/dev/null 2>&1; then GYP="node-gyp"
  elif [ -n "${npm_config_node_gyp:-}" ] && [ -f "$npm_config_node_gyp" ]; then GYP="node $npm_config_node_gyp"
  else GYP="npx node-gyp"
  fi
fi
JOBS=$(nproc 2>/dev/null || echo 2)
# node-gyp downloads Node's headers unless told where they are. npm passes its `nodedir` setting as npm_config_nodedir;
# run outside npm, use the headers installed beside this node (Debian's nodejs-dev, or a tarball's include/node).
if [ -z "${npm_config_nodedir:-}" ]; then
  prefix=$(dirname "$(dirname "$(command -v node)")")
  if [ -f "$prefix/include/node/node_api.h" ]; then export npm_config_nodedir="$prefix"; fi
fi
run() {
  if [ "$1" = "rebuild" ] || [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ] || [ native/sources.json -nt build/Makefile ]; then
    $GYP rebuild -j "$JOBS"
  else
    $GYP build -j "$JOBS"
  fi
}
if command -v flock >/dev/null 2>&1; then
  exec 9>/tmp/simdtensor-node-gyp.lock
  flock 9
fi
run "$1"
