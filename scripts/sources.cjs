#!/usr/bin/env node
// Prints one group of native/sources.json for binding.gyp's command expansion: `node scripts/sources.cjs <group> [--flags]`.
'use strict';
const path = require('path');
const spec = require(path.join(__dirname, '..', 'native', 'sources.json'));
const [group, what] = process.argv.slice(2);
if (group === 'binding' || group === 'tests') {
  process.stdout.write(spec[group].join(' '));
} else {
  const g = spec.groups[group];
  if (!g) { console.error(`sources.cjs: unknown group '${group}'`); process.exit(2); }
  let list = what === '--flags' ? g.flags : g.sources;
  // gyp and make dislike a static library without sources: an empty group gets a one-line stub.
  if (what !== '--flags' && list.length === 0) list = ['native/common/empty.cc'];
  process.stdout.write(list.join(' '));
}
