/**
 * Thread scaling of nsfwjs's MobileNetV2 compiled plan (optimizeLayersModel, 'simdtensor' backend): contenders are
 * thread settings run in one process, alternated round by round; wall and process CPU time medians per contender,
 * and each contender's ratio to the one-thread figure of the same run.
 *
 *   node dist/bench/tfjs-threads.js [--batch 16] [--reps 9] [--contenders 1,2,2s] [--steps]
 *
 * Contenders: `N` runs with setNumThreads(N); `Ns` the same with `parallelHead = false`: the split head's steps
 * called from JS chunk after chunk, each step parallel on its own (the plan before the recorded, chunk-concurrent head). Also per run: the CPU time of the busiest
 * thread (the JS thread or one pool worker): on a machine shared with other work, a lower bound of the wall time a
 * quiet machine would show (exact when no thread waits for another), far steadier than the wall time itself.
 * --steps also reports the wall time of the split head and of the tail per contender (one more run per round).
 * @module
 */
import { cpuMs, flag, median } from './measure.js';
import { native } from '../src/native.js';
import { loadTfjs } from './tfjs-env.js';

const args = process.argv.slice(2);
const BATCHES = flag('--batch', '16').split(',').map(Number);
const REPS = Number(flag('--reps', '9'));
const CONTENDERS = flag('--contenders', '1,1s,2,2s').split(',');
/** A contender's thread count: `N` or `Ns`. */
const threadsOf = (c: string): number => {
  const n = Number(c.endsWith('s') ? c.slice(0, -1) : c);
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`--contenders: '${c}' is not a thread count >= 1 (N or Ns)`);
  return n;
};
CONTENDERS.forEach(threadsOf);
const STEPS = args.includes('--steps');
if (!BATCHES.every((b) => Number.isInteger(b) && b >= 1)) throw new RangeError(`--batch: batch sizes must be integers >= 1, got '${flag('--batch', '16')}'`);
if (!(Number.isInteger(REPS) && REPS >= 1)) throw new RangeError(`--reps must be an integer >= 1, got '${flag('--reps', '9')}'`);

async function main(): Promise<void> {
  const { tf, st, nsfwjs } = await loadTfjs(1);
  await tf.setBackend('simdtensor');
  await tf.ready();
  const model = await nsfwjs.load('MobileNetV2');
  st.optimizeLayersModel(model.model);
  const plan = model.model[Symbol.for('simdtensor.tfjs.planned')];
  if (!plan) throw new Error('the model did not compile to a plan');
  const set = (c: string) => {
    st.setNumThreads(threadsOf(c));
    plan.parallelHead = !c.endsWith('s');
  };
  for (const batch of BATCHES) {
    const data = new Float32Array(batch * 224 * 224 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
    const x = tf.tensor4d(data, [batch, 224, 224, 3]).div(255);
    const wall: Record<string, number[]> = {}, cpu: Record<string, number[]> = {}, busiest: Record<string, number[]> = {};
    const head: Record<string, number[]> = {}, tail: Record<string, number[]> = {};
    for (const c of CONTENDERS) {
      set(c);
      model.model.predict(x).dispose(); // warm-up: builds the plan for this batch
      wall[c] = [];
      cpu[c] = [];
      busiest[c] = [];
      head[c] = [];
      tail[c] = [];
    }
    for (let r = 0; r < REPS; r++)
      for (const c of r % 2 ? [...CONTENDERS].reverse() : CONTENDERS) {
        set(c);
        const th0 = native.threadCpuTimes(), c0 = process.cpuUsage(), t0 = performance.now();
        const y = model.model.predict(x);
        y.dataSync();
        wall[c].push(performance.now() - t0);
        cpu[c].push(cpuMs(process.cpuUsage(c0)));
        const th1 = native.threadCpuTimes();
        busiest[c].push(Math.max(th1.caller - th0.caller, ...th1.workers.map((w, i) => w - (th0.workers[i] ?? 0))));
        y.dispose();
        if (!STEPS) continue;
        let h = 0, t = 0;
        plan.onSegment = (isHead: boolean, ms: number) => (isHead ? (h += ms) : (t += ms));
        model.model.predict(x).dispose();
        plan.onSegment = null;
        head[c].push(h);
        tail[c].push(t);
      }
    const w1 = median(wall[CONTENDERS[0]]), c1 = median(cpu[CONTENDERS[0]]);
    console.log(`batch ${batch}, ${REPS} alternated rounds, load ${(await import('node:os')).loadavg().map((v) => v.toFixed(1)).join(' ')}`);
    const b1 = median(busiest[CONTENDERS[0]]);
    console.log('| contender | wall ms | first / this (wall) | process CPU ms | this / first (CPU) | busiest thread CPU ms | first / this (busiest) |' + (STEPS ? ' head ms | tail ms |' : ''));
    for (const c of CONTENDERS) {
      const w = median(wall[c]), u = median(cpu[c]), b = median(busiest[c]);
      const extra = STEPS ? ` ${median(head[c]).toFixed(1)} | ${median(tail[c]).toFixed(1)} |` : '';
      console.log(`| ${c} | ${w.toFixed(1)} | ${(w1 / w).toFixed(2)}× | ${u.toFixed(1)} | ${(u / c1).toFixed(2)} | ${b.toFixed(1)} | ${(b1 / b).toFixed(2)}× |${extra}`);
    }
    x.dispose();
  }
}

await main();
