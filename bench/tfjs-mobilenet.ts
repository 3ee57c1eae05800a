/**
 * nsfwjs's bundled MobileNetV2 (TF.js graph model, 224×224) on the 'simdtensor' backend against TF.js 'cpu' and
 * 'wasm': same top class and probabilities within 1e-3 on generated images, and batch-1 (and batch-N) latency.
 *
 *   node dist/bench/tfjs-mobilenet.js [--images 4] [--reps 10] [--batch 1,16] [--threads 1] [--no-cpu-timing] [--json f]
 *   node dist/bench/tfjs-mobilenet.js --images 2 --accuracy-only     # the check test/tfjs-model.test.ts runs
 *
 * --int8 adds 'simdtensor+fold+int8': the folded model with setInt8Mode(true) (per-channel int8 conv / dense
 * weights, activations quantized per call); its top-1 agreement and |Δp| against 'cpu' are reported apart (not
 * part of the 1e-3 accuracy check).
 * Contender 'simdtensor+fold' is a second copy of the model passed through optimizeLayersModel (batch norms,
 * relu6 and zero paddings folded into the convs), on the 'simdtensor' backend; --no-fold leaves it out.
 *
 * One thread for every contender by default (simdtensor setNumThreads, wasm setThreadsCount). Medians of --reps
 * runs after one warm-up; contenders interleaved per round.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { cpuMs, flag, median } from './measure.js';
import { loadTfjs, type Any } from './tfjs-env.js';

const args = process.argv.slice(2);
const opt = flag;
const IMAGES = Number(opt('--images', '4'));
const REPS = Number(opt('--reps', '10'));
const BATCHES = opt('--batch', '1').split(',').map(Number);
const THREADS = Number(opt('--threads', '1'));
const CPU_TIMING = !args.includes('--no-cpu-timing');
const JSON_OUT = opt('--json', '');
const TIMING = !args.includes('--accuracy-only');

/** A deterministic 224×224×3 test image in [0, 255]: smooth gradients, rings and a seeded noise texture. */
function image(seed: number): Float32Array {
  const n = 224, out = new Float32Array(n * n * 3);
  let s = (seed * 2654435761) >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const fx = 0.02 + 0.05 * rnd(), fy = 0.02 + 0.05 * rnd(), cx = 224 * rnd(), cy = 224 * rnd();
  const tint = [rnd(), rnd(), rnd()];
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const r = Math.hypot(x - cx, y - cy);
      for (let c = 0; c < 3; c++) {
        const v = 127.5 + 60 * Math.sin(fx * x * (c + 1) + fy * y) + 50 * Math.cos(r * 0.08 * (1 + tint[c])) + 18 * (rnd() - 0.5);
        out[(y * n + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v * (0.6 + 0.4 * tint[c]))));
      }
    }
  return out;
}

async function main(): Promise<void> {
  const { tf, st, nsfwjs } = await loadTfjs(THREADS);

  await tf.setBackend('simdtensor');
  const model = await nsfwjs.load('MobileNetV2');
  const FOLD = !args.includes('--no-fold');
  const folded = FOLD ? await nsfwjs.load('MobileNetV2') : null;
  if (folded) console.log(`optimizeLayersModel: ${JSON.stringify(st.optimizeLayersModel(folded.model))}`);
  const INT8 = FOLD && args.includes('--int8');
  const backendOf = (c: string) => (c.startsWith('simdtensor') ? 'simdtensor' : c);
  const run = (x: Any, c = '') => {
    st.setInt8Mode(c === 'simdtensor+fold+int8');
    return tf.tidy(() => (c.startsWith('simdtensor+fold') ? folded.model : model.model).predict(x.div(255)));
  };

  // Accuracy: each image on every backend, against 'cpu'.
  const imgs = Array.from({ length: IMAGES }, (_, i) => image(i + 1));
  const results: Record<string, Float32Array[]> = {};
  for (const backend of ['cpu', 'wasm', 'simdtensor', ...(FOLD ? ['simdtensor+fold'] : []), ...(INT8 ? ['simdtensor+fold+int8'] : [])]) {
    await tf.setBackend(backendOf(backend));
    await tf.ready();
    results[backend] = imgs.map((d) => {
      const x = tf.tensor4d(d, [1, 224, 224, 3]);
      const y = run(x, backend);
      const v = y.dataSync().slice();
      tf.dispose([x, y]);
      return v;
    });
  }
  const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));
  let worst = 0, sameTop = 0;
  const accuracy = imgs.map((_, i) => {
    const ref = results.cpu[i], ours = results.simdtensor[i], w = results.wasm[i];
    const f = results['simdtensor+fold']?.[i];
    const diff = Math.max(...ours.map((v, j) => Math.abs(v - ref[j])), ...(f ? f.map((v, j) => Math.abs(v - ref[j])) : []));
    if (f && argmax(f) !== argmax(ref)) sameTop -= 1; // the folded model must agree as well
    const diffWasm = Math.max(...w.map((v, j) => Math.abs(v - ref[j])));
    worst = Math.max(worst, diff);
    if (argmax(ours) === argmax(ref)) sameTop++;
    return { image: i + 1, top: nsfwjs.NSFW_CLASSES?.[argmax(ref)] ?? argmax(ref), topOurs: argmax(ours) === argmax(ref), maxAbsDiff: diff, maxAbsDiffWasm: diffWasm, cpu: Array.from(ref, (v) => +v.toFixed(5)) };
  });
  for (const a of accuracy) console.log(`image ${a.image}: top ${a.top} (same on simdtensor: ${a.topOurs}), max |simdtensor − cpu| ${a.maxAbsDiff.toExponential(2)}, |wasm − cpu| ${a.maxAbsDiffWasm.toExponential(2)}, cpu probs [${a.cpu.join(', ')}]`);
  if (INT8) {
    const q = results['simdtensor+fold+int8'];
    let agree = 0, worstQ = 0, sumQ = 0, nQ = 0;
    imgs.forEach((_, i) => {
      if (argmax(q[i]) === argmax(results.cpu[i])) agree++;
      q[i].forEach((v, j) => {
        const d = Math.abs(v - results.cpu[i][j]);
        worstQ = Math.max(worstQ, d);
        sumQ += d;
        nQ++;
      });
    });
    console.log(`int8 mode: same top class as cpu on ${agree}/${IMAGES}, worst |Δp| ${worstQ.toExponential(2)}, mean |Δp| ${(sumQ / nQ).toExponential(2)}; top classes (cpu) ${imgs.map((_, i) => argmax(results.cpu[i])).join(',')}`);
  }
  console.log(`accuracy: same top class on ${sameTop}/${IMAGES}, worst |Δp| ${worst.toExponential(2)} (limit 1e-3): ${sameTop === IMAGES && worst <= 1e-3 ? 'PASS' : 'FAIL'}`);

  // Latency: interleaved rounds, medians.
  const timing: Record<string, Record<number, number>> = {};
  const cpuTiming: Record<string, Record<number, number>> = {};
  for (const batch of TIMING ? BATCHES : []) {
    const data = new Float32Array(batch * 224 * 224 * 3);
    for (let b = 0; b < batch; b++) data.set(imgs[b % IMAGES], b * 224 * 224 * 3);
    const contenders = ['simdtensor', ...(FOLD ? ['simdtensor+fold'] : []), ...(INT8 ? ['simdtensor+fold+int8'] : []), 'wasm', ...(CPU_TIMING && batch === 1 ? ['cpu'] : [])]; // cpu: ~20 s a run at batch 16
    const times: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c, []]));
    // CPU time of this process per run as well: on a machine shared with other work it tracks a quiet machine's
    // wall time far better than wall time does (every contender runs on this thread, or one pool thread).
    const cpuTimes: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c, []]));
    const x0: Record<string, Any> = {};
    for (const c of contenders) {
      await tf.setBackend(backendOf(c));
      x0[c] = tf.tensor4d(data, [batch, 224, 224, 3]);
      tf.dispose(run(x0[c], c).dataSync() && []); // warm-up (packs weights, compiles nothing)
    }
    for (let r = 0; r < REPS; r++)
      for (const c of contenders) {
        if (c === 'cpu' && r >= Math.max(2, Math.ceil(REPS / 4))) continue; // the CPU backend takes seconds a run
        await tf.setBackend(backendOf(c));
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const y = run(x0[c], c);
        y.dataSync();
        times[c].push(performance.now() - t0);
        const cu = process.cpuUsage(c0);
        cpuTimes[c].push(cpuMs(cu));
        y.dispose();
      }
    for (const c of contenders) {
      await tf.setBackend(backendOf(c));
      x0[c].dispose();
      (timing[c] ??= {})[batch] = median(times[c]);
      (cpuTiming[c] ??= {})[batch] = median(cpuTimes[c]);
    }
    const s = timing.simdtensor[batch];
    console.log(
      `batch ${batch}, ${THREADS} thread(s), medians of ${REPS}: ` +
        contenders.map((c) => `${c} ${timing[c][batch].toFixed(1)} ms${c === 'simdtensor' ? '' : ` (${(timing[c][batch] / s).toFixed(1)}× simdtensor)`}`).join(', '),
    );
    const sc = cpuTiming.simdtensor[batch];
    console.log(
      `batch ${batch}, process CPU time per run, medians: ` +
        contenders.map((c) => `${c} ${cpuTiming[c][batch].toFixed(1)} ms${c === 'simdtensor' ? '' : ` (${(cpuTiming[c][batch] / sc).toFixed(1)}×)`}`).join(', '),
    );
  }
  console.log(`kernels: ${JSON.stringify(st.kernelStats())}`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ threads: THREADS, reps: REPS, accuracy, timing, cpuTiming }, null, 2));
  if (!(sameTop === IMAGES && worst <= 1e-3)) process.exitCode = 1;
}

await main();
