/**
 * Half-precision `linear` at small M, one thread: f32 activations × f16 / bf16 packed weights (weight-only) and
 * bf16 activations × bf16 weights. Prints per-shape medians of process CPU time per call (into a preallocated
 * output), GFLOP/s, GB/s of weights, the kernel that ran and the one-core read bandwidth over a weight-sized buffer
 * measured in the same rounds. For a before/after, run it in alternating processes with SIMDTENSOR_HALF_SMALL_M=0
 * (the GEMM tiles) and unset (the small-M kernels).
 *
 *   node dist/bench/half-small.js [--rounds 9] [--shapes 1x4096x4096,8x4096x4096,1x1024x1024] [--json]
 * @module
 */
import { cpuPerCall, flag, median } from './measure.js';
import { rng } from '../src/random.js';

const arg = (name: string, def: string): string => flag(`--${name}`, def);

function uniform(n: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * 2 - 1;
  return out;
}

async function main(): Promise<void> {
  const st = await import('../src/index.js');
  const { native } = await import('../src/native.js');
  st.setNumThreads(1);
  const rounds = Number(arg('rounds', '9'));
  const shapes = arg('shapes', '1x4096x4096,8x4096x4096,1x1024x1024')
    .split(',')
    .map((s) => s.split('x').map(Number) as [number, number, number]);
  const cases = arg('cases', 'f16w,bf16w,bf16').split(',');
  const load0 = (await import('node:os')).loadavg()[0];
  const rows: Record<string, unknown>[] = [];
  for (const [m, k, n] of shapes) {
    const w = st.tensor(uniform(n * k, 3 + k), [n, k]);
    const x32 = st.tensor(uniform(m * k, 5 + m), [m, k]);
    for (const c of cases) {
      const dtype = c === 'f16w' ? 'float16' : 'bfloat16';
      const input = c === 'bf16' ? 'bfloat16' : 'float32';
      const packed = st.packWeights(w, { dtype, inputDtype: input } as never);
      const x = c === 'bf16' ? st.cast(x32, 'bfloat16') : x32;
      const y = st.tensor(new Float32Array(m * n), [m, n]);
      const run = () => st.linear(x as never, packed as never, null, { out: y } as never);
      for (let i = 0; i < 3; i++) run();
      const calls = Math.max(3, Math.round(3e-3 / ((2 * k * n) / 30e9)));
      const us: number[] = [];
      const bw: number[] = [];
      for (let r = 0; r < rounds; r++) {
        us.push((await cpuPerCall(run, calls)) * 1000);
        bw.push(native.probeReadBandwidth(n * k * 2, 2));
      }
      const t = median(us);
      const row = {
        case: c, m, k, n, us: t, gflops: (2 * m * n * k) / t / 1e3, gbs: (2 * n * k) / t / 1e3, readGbs: median(bw),
        kernel: st.cpuInfo().kernels[c === 'f16w' ? 'linear.f16w.smallM' : c === 'bf16w' ? 'linear.bf16w.smallM' : 'matmul.bf16.smallM'],
      };
      rows.push(row);
      if (!process.argv.includes('--json'))
        console.log(`${c} ${m}x${k}x${n}: ${t.toFixed(1)} µs CPU, ${row.gflops.toFixed(1)} GFLOP/s, ${row.gbs.toFixed(1)} GB/s of weights ` +
          `(read probe ${row.readGbs.toFixed(1)} GB/s, ${((100 * row.gbs) / row.readGbs).toFixed(0)} %)`);
    }
  }
  const load1 = (await import('node:os')).loadavg()[0];
  if (process.argv.includes('--json')) console.log(JSON.stringify({ smallM: process.env.SIMDTENSOR_HALF_SMALL_M ?? 'default', load0, load1, rows }));
  else console.log(`load ${load0.toFixed(2)} -> ${load1.toFixed(2)}, ${rounds} rounds, SIMDTENSOR_HALF_SMALL_M=${process.env.SIMDTENSOR_HALF_SMALL_M ?? '(unset)'}`);
}

void main();
