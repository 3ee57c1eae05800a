#!/usr/bin/env node
// Runs an installed simdtensor under another JavaScript runtime (Bun, Deno) or Node: the smoke checks of
// scripts/smoke.mjs (f32/f16 matmul, int8 linear, an async op), then a worker thread that loads the addon and runs a
// matmul, then the BatchScheduler batching concurrent requests. A part the runtime cannot do is reported as
// unsupported with the reason, not a crash; a wrong result fails. Run it from a project that installed simdtensor:
//   bun runtime-smoke.mjs        deno run -A runtime-smoke.mjs        node runtime-smoke.mjs
import { Worker } from 'node:worker_threads';

const runtime = globalThis.Bun ? `bun ${globalThis.Bun.version}` : globalThis.Deno ? `deno ${globalThis.Deno.version.deno}` : `node ${process.version}`;
const results = [];
let failed = false;
async function part(name, fn) {
  try {
    const detail = await fn();
    results.push(`ok           ${name}${detail ? `: ${detail}` : ''}`);
  } catch (e) {
    const msg = String(e?.message ?? e).split('\n')[0];
    if (e?.wrong) failed = true;
    results.push(`${e?.wrong ? 'FAILED     ' : 'unsupported'}  ${name}: ${msg}`);
  }
}
const wrong = (msg) => Object.assign(new Error(msg), { wrong: true });

let st;
await part('import', async () => {
  st = await import('simdtensor');
  return `best ISA ${st.cpuInfo().bestIsa}`;
});
if (st) {
  await part('f32 matmul', () => {
    const c = st.matmul(st.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]), st.tensor(new Float32Array([5, 6, 7, 8]), [2, 2]));
    if (String(Array.from(c.data)) !== '19,22,43,50') throw wrong(`got ${Array.from(c.data)}`);
  });
  await part('int8 linear', () => {
    const w = st.rand([16, 32], { seed: 2 });
    const x = st.rand([3, 32], { seed: 1 });
    const cmp = st.compareOutputs(st.linear(x, w), st.linear(x, st.quantize(w, { axis: 0 })));
    if (!(cmp.cosineSimilarity > 0.999)) throw wrong(`cosine similarity ${cmp.cosineSimilarity}`);
    return `cosine ${cmp.cosineSimilarity.toFixed(5)}`;
  });
  await part('f16 matmul', () => {
    const a = st.rand([4, 8], { seed: 3 });
    const b = st.rand([8, 5], { seed: 4 });
    const cmp = st.compareOutputs(st.matmul(a, b), st.matmul(a.to('float16'), b.to('float16')));
    if (!(cmp.maxAbsError < 0.02)) throw wrong(`max error ${cmp.maxAbsError}`);
  });
  await part('async matmul', async () => {
    const a = st.rand([33, 17], { seed: 5 });
    const b = st.rand([17, 9], { seed: 6 });
    const s = st.matmul(a, b).data;
    const y = (await st.matmulAsync(a, b)).data;
    for (let i = 0; i < s.length; i++) if (s[i] !== y[i]) throw wrong(`async differs at ${i}`);
  });
  await part('worker thread', () => {
    const src = `
      const { parentPort } = require('node:worker_threads');
      import('simdtensor').then((st) => {
        const c = st.matmul(st.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]), st.tensor(new Float32Array([1, 0, 0, 1]), [2, 2]));
        parentPort.postMessage(Array.from(c.data).join(','));
      }, (e) => parentPort.postMessage('error: ' + e.message));`;
    return new Promise((resolve, reject) => {
      const w = new Worker(src, { eval: true });
      const timer = setTimeout(() => reject(new Error('no answer in 20 s')), 20000);
      w.on('message', (m) => {
        clearTimeout(timer);
        w.terminate();
        if (m === '1,2,3,4') resolve();
        else reject(m.startsWith('error') ? new Error(m) : wrong(`worker computed ${m}`));
      });
      w.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  });
  await part('BatchScheduler', async () => {
    const w = st.packWeights(st.rand([4, 8], { seed: 7 }));
    const sched = new st.BatchScheduler((batch) => st.linearAsync(batch, w), { maxBatchSize: 8, maxDelayMs: 5 });
    const rows = Array.from({ length: 6 }, (_, i) => st.rand([1, 8], { seed: 10 + i }));
    const ys = await Promise.all(rows.map((r) => sched.submit(r)));
    await sched.close();
    for (let i = 0; i < rows.length; i++) {
      const want = st.linear(rows[i], w).data;
      for (let j = 0; j < want.length; j++) if (Math.abs(ys[i].data[j] - want[j]) > 1e-5) throw wrong(`request ${i} output ${j}`);
    }
    return `${rows.length} concurrent requests`;
  });
}
console.log(`runtime smoke under ${runtime}:\n  ${results.join('\n  ')}`);
process.exit(failed || !st ? 1 : 0);
