/**
 * Per-kernel time breakdown of nsfwjs's MobileNetV2 on a TF.js backend (default 'simdtensor'): `tf.profile` of
 * --reps runs after a warm-up, the median per-run time of each kernel name, its call count, and the rest of the run
 * (TF.js's engine and graph executor, outside any kernel).
 *
 *   node dist/bench/tfjs-profile.js [--batch 1] [--reps 5] [--backend simdtensor] [--threads 1] [--optimize] [--layers]
 *
 * --layers also times each tfjs-layers layer's apply (synchronous kernels: the time of its ops, engine included),
 * medians per run by layer class and the slowest layers, beside tf.profile's kernel view.
 * --optimize runs the model after optimizeLayersModel (batch norms, relu6, paddings folded into the convs, the model
 * compiled into one SimdtensorLayersModel kernel); --steps (with --optimize) times each step of that compiled plan
 * (medians per run by step kind and the slowest steps) — the view inside the one kernel.
 * --split-bytes N passes optimizeLayersModel's splitBytes (default 1 MiB; Infinity: whole batch).
 * Kernel times are tf.profile's wall times: on a loaded machine compare shares, not milliseconds.
 * @module
 */
import { cpuMs, flag, median } from './measure.js';
import { loadTfjs } from './tfjs-env.js';

const args = process.argv.slice(2);
const opt = flag;
const BATCH = Number(opt('--batch', '1'));
const REPS = Number(opt('--reps', '5'));
const BACKEND = opt('--backend', 'simdtensor');
const THREADS = Number(opt('--threads', '1'));

async function main(): Promise<void> {
  const { tf, st, nsfwjs } = await loadTfjs(THREADS);
  await tf.setBackend(BACKEND);
  await tf.ready();
  const model = await nsfwjs.load('MobileNetV2');
  const splitBytes = Number(opt('--split-bytes', String(1024 * 1024)));
  const optimized = args.includes('--optimize') ? st.optimizeLayersModel(model.model, { splitBytes }) : null;
  // The compiled plan's per-step timing (optimizeLayersModel keeps the plan under this registered symbol).
  const plan = args.includes('--steps') ? model.model[Symbol.for('simdtensor.tfjs.planned')] : null;
  if (args.includes('--steps') && !plan) throw new Error('--steps needs --optimize and a model the plan compiles');
  const stepMs: number[][] = plan ? plan.describeSteps().map(() => []) : [];
  let stepRun: number[] | null = null;
  if (plan) plan.onStep = (i: number, ms: number) => stepRun && (stepRun[i] += ms);
  if (optimized) console.log(`optimizeLayersModel: ${JSON.stringify(optimized)}`);
  const data = new Float32Array(BATCH * 224 * 224 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
  const x = tf.tensor4d(data, [BATCH, 224, 224, 3]);
  const run = () => tf.tidy(() => model.model.predict(x.div(255)));
  // Per-layer timing: each layer's apply wrapped (after the fold, so the fast paths are what is timed).
  const layerMs = new Map<string, { cls: string; ms: number[] }>();
  let current: Map<string, number> | null = null;
  if (args.includes('--layers'))
    for (const l of model.model.layers) {
      const apply = l.apply;
      const entry = { cls: l.getClassName(), ms: [] as number[] };
      layerMs.set(l.name, entry);
      l.apply = function (...a: unknown[]) {
        const t0 = performance.now();
        const r = apply.apply(this, a);
        if (current) current.set(l.name, (current.get(l.name) ?? 0) + performance.now() - t0);
        return r;
      };
    }
  run().dispose();
  const perKernel = new Map<string, { ms: number[]; calls: number }>();
  const totals: number[] = [], cpuTotals: number[] = [], kernelSums: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    current = new Map();
    stepRun = plan ? stepMs.map(() => 0) : null;
    const info = await tf.profile(() => {
      const y = run();
      y.dataSync();
      return y;
    });
    totals.push(performance.now() - t0);
    const cu = process.cpuUsage(c0);
    cpuTotals.push(cpuMs(cu));
    info.result.dispose();
    for (const [name, ms] of current) layerMs.get(name)?.ms.push(ms);
    stepRun?.forEach((ms, i) => stepMs[i].push(ms));
    stepRun = null;
    current = null;
    const sums = new Map<string, number>();
    const calls = new Map<string, number>();
    let sum = 0;
    for (const k of info.kernels) {
      const ms = Number(k.kernelTimeMs) || 0;
      sums.set(k.name, (sums.get(k.name) ?? 0) + ms);
      calls.set(k.name, (calls.get(k.name) ?? 0) + 1);
      sum += ms;
    }
    kernelSums.push(sum);
    for (const [name, ms] of sums) {
      const e = perKernel.get(name) ?? { ms: [], calls: calls.get(name)! };
      e.ms.push(ms);
      perKernel.set(name, e);
    }
  }
  const rows = [...perKernel].map(([name, e]) => ({ name, calls: e.calls, ms: median(e.ms) })).sort((a, b) => b.ms - a.ms);
  const total = median(totals), ksum = median(kernelSums);
  console.log(`${BACKEND}, batch ${BATCH}, ${THREADS} thread(s), medians of ${REPS} profiled runs: wall ${total.toFixed(1)} ms, process CPU ${median(cpuTotals).toFixed(1)} ms, kernels ${ksum.toFixed(1)} ms, outside kernels ${(total - ksum).toFixed(1)} ms`);
  console.log('| kernel | calls | ms / run | share of kernels |\n| --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r.calls} | ${r.ms.toFixed(2)} | ${((100 * r.ms) / ksum).toFixed(0)}% |`);
  if (layerMs.size) {
    const perLayer = [...layerMs].filter(([, e]) => e.ms.length).map(([name, e]) => ({ name, cls: e.cls, ms: median(e.ms) }));
    const byClass = new Map<string, { n: number; ms: number }>();
    for (const l of perLayer) {
      const c = byClass.get(l.cls) ?? { n: 0, ms: 0 };
      c.n++;
      c.ms += l.ms;
      byClass.set(l.cls, c);
    }
    const total = perLayer.reduce((a, l) => a + l.ms, 0);
    console.log(`\nlayers (apply wall time, medians per run; ${total.toFixed(1)} ms in layers)\n| layer class | layers | ms / run | share |\n| --- | ---: | ---: | ---: |`);
    for (const [c, v] of [...byClass].sort((a, b) => b[1].ms - a[1].ms)) console.log(`| ${c} | ${v.n} | ${v.ms.toFixed(2)} | ${((100 * v.ms) / total).toFixed(0)}% |`);
    console.log('slowest layers: ' + perLayer.sort((a, b) => b.ms - a.ms).slice(0, 12).map((l) => `${l.name} ${l.ms.toFixed(2)}`).join(', '));
  }
  if (plan) {
    const names: string[] = plan.describeSteps();
    const steps = names.map((name, i) => ({ i, name, ms: median(stepMs[i]) }));
    const total = steps.reduce((a, r) => a + r.ms, 0);
    const byKind = new Map<string, { n: number; ms: number }>();
    for (const r of steps) {
      const k = r.name.split(' ')[0];
      const e = byKind.get(k) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += r.ms;
      byKind.set(k, e);
    }
    console.log(`\ncompiled plan steps (wall time, medians per run; ${total.toFixed(1)} ms in steps)\n| step kind | steps | ms / run | share |\n| --- | ---: | ---: | ---: |`);
    for (const [k, v] of [...byKind].sort((a, b) => b[1].ms - a[1].ms)) console.log(`| ${k} | ${v.n} | ${v.ms.toFixed(2)} | ${((100 * v.ms) / total).toFixed(0)}% |`);
    console.log('slowest steps: ' + steps.sort((a, b) => b.ms - a.ms).slice(0, 10).map((r) => `#${r.i} ${r.name} ${r.ms.toFixed(2)}`).join(', '));
  }
  x.dispose();
}

await main();
