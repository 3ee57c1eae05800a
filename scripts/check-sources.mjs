#!/usr/bin/env node
// Fails when the native source list and the build files drift apart: every listed file exists, every .cc under
// native/ is listed exactly once, and binding.gyp has one static library per ISA group of native/sources.json.
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const spec = JSON.parse(readFileSync(join(root, 'native', 'sources.json'), 'utf8'));
const errors = [];
const listed = new Map();
const note = (f, where) => {
  if (listed.has(f)) errors.push(`${f} is listed twice (${listed.get(f)} and ${where})`);
  listed.set(f, where);
  if (!existsSync(join(root, f))) errors.push(`${f} (${where}) does not exist`);
};
for (const [g, v] of Object.entries(spec.groups)) for (const f of v.sources) note(f, `group ${g}`);
for (const f of spec.binding) note(f, 'binding');
for (const f of spec.capi ?? []) note(f, 'capi');
for (const f of spec.tests) note(f, 'tests');
const walk = (d) =>
  readdirSync(d).flatMap((e) => {
    const p = join(d, e);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
for (const p of walk(join(root, 'native'))) {
  const rel = relative(root, p).split('\\').join('/');
  if (rel.endsWith('.cc') && rel !== 'native/common/empty.cc' && !listed.has(rel)) errors.push(`${rel} is not listed in native/sources.json`);
}
const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
for (const g of Object.keys(spec.groups)) {
  if (!gyp.includes(`"st_${g}"`)) errors.push(`binding.gyp has no target st_${g} for group ${g}`);
  if (!gyp.includes(`sources.cjs ${g}`)) errors.push(`binding.gyp does not read group ${g} from sources.json`);
}
if (errors.length) {
  console.error('check-sources: native/sources.json and the build files disagree:\n  ' + errors.join('\n  '));
  process.exit(1);
}
console.log(`check-sources: ${listed.size} native sources listed, binding.gyp and CMakeLists.txt read the same list`);
