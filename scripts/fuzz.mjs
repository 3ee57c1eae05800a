#!/usr/bin/env node
// Fuzzes every export of the package and every function of the raw addon with random, hostile and careless
// arguments, each batch in a child process (test/fuzz/). Needs `npm run build:ts` and the addon built.
//   node scripts/fuzz.mjs --calls 100000 --seed 7        a campaign (counts + distinct failure classes)
//   node scripts/fuzz.mjs --seed 7 --call 1234           replay one call alone, verbosely
//   node scripts/fuzz.mjs --seed 7 --from 1000 --to 1235 replay a range in one process (state-dependent faults)
// Options: --batch N (calls per process, 500), --stall-ms N (kill a silent child, 20000), --call-timeout N (an
// unsettled promise counts as a hang, 5000), --only a,b (target names, 'native.*' style prefixes with *),
// --exclude a,b (skip targets, e.g. a known hang while hunting for other classes), --json (machine-readable
// result), --quiet. Exit status 1 when a crash or hang was found.
// SIMDTENSOR_ADDON=/path/to/simdtensor.node picks another addon build (scripts/asan-addon.sh uses it).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatReport, runFuzz } from '../test/fuzz/driver.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const seed = Number(opt('seed', '1'));
const only = opt('only') ? opt('only').split(',') : null;
const exclude = opt('exclude') ? opt('exclude').split(',') : null;

if (opt('call') !== undefined || opt('from') !== undefined) {
  const from = Number(opt('call') ?? opt('from'));
  const to = opt('call') !== undefined ? from + 1 : Number(opt('to', String(from + 1)));
  const args = [join(root, 'test', 'fuzz', 'child.mjs'), '--seed', String(seed), '--from', String(from), '--to', String(to), '--verbose', '--call-timeout', opt('call-timeout', '5000')];
  if (only) args.push('--only', only.join(','));
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  console.log(r.signal ? `child killed by ${r.signal}` : `child exit status ${r.status}`);
  process.exit(r.status === 0 ? 0 : 1);
}

const calls = Number(opt('calls', '10000'));
const json = argv.includes('--json');
const quiet = argv.includes('--quiet') || json;
const result = await runFuzz({
  seed,
  calls,
  batch: Number(opt('batch', '500')),
  stallMs: Number(opt('stall-ms', '20000')),
  callTimeoutMs: Number(opt('call-timeout', '5000')),
  only,
  exclude,
  log: quiet ? () => {} : (s) => console.error(s),
});
if (json) console.log(JSON.stringify(result, null, 1));
else console.log(formatReport(result, { seed, maxClasses: Number(opt('max-classes', '60')) }));
process.exit(result.counts.crash || result.counts.hang ? 1 : 0);
