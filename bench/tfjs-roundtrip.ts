/**
 * `tf.matMul` round trip of two 4×4 tensors (op + dataSync + dispose) on 'simdtensor' and 'cpu', interleaved
 * rounds, medians: the per-op cost of the backend's dispatch path (issue #15 target: ≤ 3 µs). Both wall time and this
 * process's CPU time (user + system) per iteration are reported: on a shared machine the wall figure includes the
 * time other processes held the core, the CPU figure does not.
 *   node dist/bench/tfjs-roundtrip.js [--rounds 9] [--iters 20000] [--size 4]
 * @module
 */
import { createRequire } from 'node:module';
import { median } from './measure.js';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const ROUNDS = Number(opt('--rounds', '9'));
const ITERS = Number(opt('--iters', '20000'));
const SIZE = Number(opt('--size', '4'));

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const tf: any = require('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-cpu');
  await import('../src/tfjs/index.js');
  const backends = ['simdtensor', 'cpu'];
  const times: Record<string, number[]> = { simdtensor: [], cpu: [] };
  const cpuTimes: Record<string, number[]> = { simdtensor: [], cpu: [] };
  const inputs: Record<string, unknown[]> = {};
  for (const b of backends) {
    await tf.setBackend(b);
    const a = tf.tensor2d(Float32Array.from({ length: SIZE * SIZE }, (_, i) => i * 0.25), [SIZE, SIZE]);
    const c = tf.tensor2d(Float32Array.from({ length: SIZE * SIZE }, (_, i) => 1 - i * 0.125), [SIZE, SIZE]);
    inputs[b] = [a, c];
  }
  for (let r = 0; r < ROUNDS + 1; r++)
    for (const b of backends) {
      await tf.setBackend(b);
      const [a, c] = inputs[b];
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < ITERS; i++) {
        const y = tf.matMul(a, c);
        y.dataSync();
        y.dispose();
      }
      const us = Number(process.hrtime.bigint() - t0) / 1e3 / ITERS;
      const cu = process.cpuUsage(c0);
      if (r > 0) {
        // round 0 warms up
        times[b].push(us);
        cpuTimes[b].push((cu.user + cu.system) / ITERS);
      }
    }
  const s = median(times.simdtensor), c = median(times.cpu);
  const sc = median(cpuTimes.simdtensor), cc = median(cpuTimes.cpu);
  console.log(`tf.matMul ${SIZE}×${SIZE} + dataSync + dispose, medians of ${ROUNDS} × ${ITERS}:`);
  console.log(`  wall: simdtensor ${s.toFixed(2)} µs, cpu ${c.toFixed(2)} µs (simdtensor / cpu ${(s / c).toFixed(2)})`);
  console.log(`  process CPU time: simdtensor ${sc.toFixed(2)} µs, cpu ${cc.toFixed(2)} µs (simdtensor / cpu ${(sc / cc).toFixed(2)})`);
}

await main();
