#!/usr/bin/env node
// Soak test (issue #12): the BatchScheduler at >= 10x overload, and 10^6 small ops, checking that every promise
// settles exactly once and that memory stays bounded. Run after `npm run build:ts`:
//
//   node --expose-gc scripts/soak.mjs [--seconds 20] [--overload 10] [--calls 1000000]
//
// Prints one JSON line per phase and exits 1 if a check fails. docs/serving.md quotes its figures.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const SECONDS = Number(args.seconds ?? 20);
const OVERLOAD = Number(args.overload ?? 10);
const CALLS = Number(args.calls ?? 1e6);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const { add, BatchScheduler, linear, packWeights, rand, tensor } = await import('../dist/src/index.js');

const MiB = (b) => +(b / 2 ** 20).toFixed(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function settleMemory() {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(20);
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}
let failed = false;
function check(ok, what) {
  if (!ok) {
    failed = true;
    console.error(`FAIL: ${what}`);
  }
}

// ---- 1. The scheduler at OVERLOAD x its capacity -----------------------------------------------------------------
// The model: a 256 -> 256 linear on the batch plus a fixed 20 ms of "device time" per batch (a timer), two batches
// at once, 32 rows each: capacity = 2 x 32 / 20 ms = 3200 requests/s. Requests arrive at OVERLOAD x that rate in
// bursts every 5 ms. Some requests carry a signal that aborts, some a short timeout, some have their input
// detached (transferred away) after submit, a few are malformed.
const BATCH_MS = 20;
const ROWS = 32;
const SLOTS = 2;
const capacityPerMs = (SLOTS * ROWS) / BATCH_MS;
const w = packWeights(rand([256, 256], { seed: 1 }));
const model = async (x) => {
  const y = linear(x, w);
  await sleep(BATCH_MS);
  return y;
};

async function overload(mode) {
  const opts = mode === 'reject'
    ? { maxBatchSize: ROWS, maxDelayMs: 2, maxConcurrentBatches: SLOTS, maxQueue: 64, onFull: 'reject', name: `soak-${mode}` }
    : { maxBatchSize: ROWS, maxDelayMs: 2, maxConcurrentBatches: SLOTS, maxQueue: 64, onFull: 'wait', maxWaiting: 1024, timeoutMs: 250, name: `soak-${mode}` };
  const s = new BatchScheduler(model, opts);
  const counts = { submitted: 0, resolved: 0, rejected: 0, settledTwice: 0, wrongRows: 0 };
  const byCode = {};
  let pendingNow = 0;
  let peak = { heap: 0, rss: 0, pending: 0 };
  const before = await settleMemory();
  const t0 = performance.now();
  let sent = 0;
  let k = 0;
  let offeredMs = 0; // when the last burst was sent: the offered rate is sent / offeredMs
  while (performance.now() - t0 < SECONDS * 1000) {
    offeredMs = performance.now() - t0;
    const due = Math.floor(offeredMs * capacityPerMs * OVERLOAD);
    for (; sent < due; sent++) {
      k++;
      const x = tensor(new Float32Array(256).fill(k % 1000), [1, 256]);
      const o = {};
      if (k % 97 === 0) {
        const ac = new AbortController();
        o.signal = ac.signal;
        setTimeout(() => ac.abort(), k % 7);
      }
      if (k % 89 === 0) o.timeoutMs = 1 + (k % 5);
      const input = k % 1009 === 0 ? 'not a tensor' : x;
      let settled = 0;
      counts.submitted++;
      pendingNow++;
      s.submit(input, o).then(
        (y) => {
          if (++settled > 1) counts.settledTwice++;
          pendingNow--;
          counts.resolved++;
          if (y.shape[0] !== 1) counts.wrongRows++;
        },
        (e) => {
          if (++settled > 1) counts.settledTwice++;
          pendingNow--;
          counts.rejected++;
          const c = e.code ?? e.name;
          byCode[c] = (byCode[c] ?? 0) + 1;
        },
      );
      if (k % 131 === 0) structuredClone(x.data.buffer, { transfer: [x.data.buffer] }); // detached after submit
    }
    const m = process.memoryUsage();
    peak = { heap: Math.max(peak.heap, m.heapUsed), rss: Math.max(peak.rss, m.rss), pending: peak.pending };
    await sleep(5);
    // Outstanding requests once the burst's immediate rejections were delivered: queued, waiting and running.
    peak.pending = Math.max(peak.pending, pendingNow);
  }
  const elapsed = (performance.now() - t0) / 1000;
  await s.close({ timeoutMs: 5000 });
  await sleep(10);
  const after = await settleMemory();
  const st = s.stats();
  const r = {
    phase: `scheduler onFull '${mode}'`,
    seconds: +elapsed.toFixed(1),
    offeredPerSec: Math.round(counts.submitted / (offeredMs / 1000)),
    capacityPerSec: Math.round(capacityPerMs * 1000),
    overload: +(counts.submitted / offeredMs / capacityPerMs).toFixed(1),
    ...counts,
    unsettled: counts.submitted - counts.resolved - counts.rejected,
    rejectedBy: byCode,
    batches: st.batches,
    meanBatchSize: +st.meanBatchSize.toFixed(1),
    peakPending: peak.pending,
    heapMiB: { before: MiB(before.heap), peak: MiB(peak.heap), after: MiB(after.heap) },
    rssMiB: { before: MiB(before.rss), peak: MiB(peak.rss), after: MiB(after.rss) },
  };
  console.log(JSON.stringify(r));
  check(r.unsettled === 0, `${r.phase}: ${r.unsettled} promises never settled`);
  check(r.settledTwice === 0, `${r.phase}: ${r.settledTwice} promises settled twice`);
  check(r.wrongRows === 0, `${r.phase}: ${r.wrongRows} results with the wrong rows`);
  check(r.overload >= OVERLOAD * 0.9, `${r.phase}: offered only ${r.overload}x capacity`);
  check(after.heap - before.heap < 32 * 2 ** 20, `${r.phase}: heap grew by ${MiB(after.heap - before.heap)} MiB`);
  const bound = opts.maxQueue + (mode === 'wait' ? opts.maxWaiting : 0) + SLOTS * ROWS;
  check(peak.pending <= bound, `${r.phase}: ${peak.pending} requests outstanding at once (bound ${bound})`);
}

await overload('reject');
await overload('wait');

// ---- 2. RSS over 10^6 small ops -------------------------------------------------------------------------------
{
  const a = rand([4, 4], { seed: 2 });
  const b = rand([4, 4], { seed: 3 });
  for (let i = 0; i < 10000; i++) add(a, b); // warm-up
  const before = await settleMemory();
  const t0 = performance.now();
  let rssPeak = before.rss;
  const rssAt = []; // RSS after each quarter of the calls: flat, not a slope
  for (let i = 0; i < CALLS; i++) {
    add(a, b);
    if ((i & 0xffff) === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    if ((i + 1) % (CALLS / 4) === 0) rssAt.push(MiB(process.memoryUsage().rss));
  }
  const us = ((performance.now() - t0) * 1000) / CALLS;
  const after = await settleMemory();
  const r = {
    phase: `${CALLS} x add([4, 4], [4, 4])`,
    usPerCall: +us.toFixed(3),
    heapMiB: { before: MiB(before.heap), after: MiB(after.heap) },
    rssMiB: { before: MiB(before.rss), atQuarters: rssAt, peak: MiB(rssPeak), after: MiB(after.rss) },
  };
  console.log(JSON.stringify(r));
  check(after.rss - before.rss < 16 * 2 ** 20, `${r.phase}: RSS grew by ${MiB(after.rss - before.rss)} MiB`);
  check(after.heap - before.heap < 4 * 2 ** 20, `${r.phase}: heap grew by ${MiB(after.heap - before.heap)} MiB`);
}

if (failed) process.exit(1);
console.log('soak: every check passed');
