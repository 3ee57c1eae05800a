/**
 * Dynamic-int8 `linear` at small M against onnxruntime-node, one thread, fresh outputs on both sides, interleaved in
 * one process so machine load hits both alike. Prints per-shape medians (µs per call, GOP/s, GB/s of weights), the
 * same-run ratio ORT / ours, the kernel that ran, and the one-core read bandwidth over a weight-sized buffer.
 *
 *   node dist/bench/int8-small.js [--rounds 15] [--shapes 1x4096x4096,8x4096x4096,...]
 * @module
 */
import { ortGraph } from './drivers.js';
import { onnxModel } from './onnx.js';
import type { Trial, TrialInputs } from './trials.js';
import { cpuPerCall, flag, median } from './measure.js';
import { rng } from '../src/random.js';

const arg = (name: string, def: string): string => flag(`--${name}`, def);

function randn(n: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() - 1.5) * 1.2;
  return out;
}

async function main(): Promise<void> {
  const st = await import('../src/index.js');
  const { native } = await import('../src/native.js');
  const ort = await import('onnxruntime-node');
  st.setNumThreads(1);
  const rounds = Number(arg('rounds', '15'));
  const shapes = arg('shapes', '1x4096x4096,8x4096x4096,16x4096x4096,64x4096x4096,1x1024x1024,8x1024x1024,16x1024x1024,64x1024x1024,256x1024x1024')
    .split(',')
    .map((s) => s.split('x').map(Number) as [number, number, number]);
  const load0 = (await import('node:os')).loadavg()[0];
  const kn = st.cpuInfo().kernels;
  console.log(`kernels: linear.int8 ${kn['linear.int8']}, M <= 4 ${kn['linear.int8.smallM']}; load ${load0.toFixed(2)}`);
  for (const [m, k, n] of shapes) {
    const w = randn(n * k, 7 + k);
    const x = randn(m * k, 11 + m);
    const t = { m, k, n, dtype: 'int8-dynamic', op: 'gemm' } as unknown as Trial;
    const g = ortGraph(t, { a: x, w } as unknown as TrialInputs);
    if (typeof g === 'string') throw new Error(g);
    const session = await ort.InferenceSession.create(onnxModel(g.graph), { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const feeds = { A: new ort.Tensor('float32', x, [m, k]) };
    const packed = st.packWeights(st.quantize(st.tensor(w, [n, k]), { axis: 0 }) as never);
    const xt = st.tensor(x, [m, k]);
    // Calls per timed batch: about 2 ms of work at 100 GOP/s.
    const calls = Math.max(3, Math.round(2e-3 / ((2 * m * n * k) / 100e9)));
    const yOut = st.tensor(new Float32Array(m * n), [m, n]);
    const ours = async () => {
      st.linear(xt, packed as never);
    };
    const oursInto = async () => {
      st.linear(xt, packed as never, null, { out: yOut } as never);
    };
    const theirs = async () => {
      await session.run(feeds);
    };
    for (let i = 0; i < 3; i++) {
      await ours();
      await theirs();
    }
    // Steady state, as in bench/fresh.ts: a process's first fresh outputs are memory new to it (plain outputs grow
    // glibc's heap until V8's first GC frees some, ~32 MiB; pooled ones — scoped, or ≥ 32 MiB — map blocks up to the
    // pool's limit): a one-time cost, 64 faults per 256 KiB here. Warm up past the larger of the two, yielding now
    // and then so collected blocks come back, else a handful of timed calls measures only that first fill.
    const outBytes = 4 * m * n;
    const fill = outBytes >= st.POOL_MIN_BYTES ? Math.ceil(st.bufferPoolStats().limitBytes / outBytes) + 2 : 0;
    for (let i = 0; i < fill; i++) {
      await ours();
      if (i % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    const tOurs: number[] = [];
    const tOrt: number[] = [];
    const tInto: number[] = [];
    const bw: number[] = [];
    // Process CPU time (user + system: page faults count) per call: on this shared 2-vCPU box wall time mostly
    // measures the scheduler. ORT runs on a libuv worker thread of this process, so its CPU time is counted too.
    const time = async (f: () => Promise<void>): Promise<number> => (await cpuPerCall(f, calls)) * 1000; // µs
    for (let r = 0; r < rounds; r++) {
      tOurs.push(await time(ours));
      tOrt.push(await time(theirs));
      tInto.push(await time(oursInto));
      bw.push(native.probeReadBandwidth(n * k, 2));
    }
    const us = median(tOurs);
    const uo = median(tOrt);
    const gops = (2 * m * n * k) / us / 1e3;
    const gbs = (n * k) / us / 1e3;
    const ratios = tOurs.map((v, i) => tOrt[i] / v);
    const ui = median(tInto);
    console.log(
      `${m}x${k}x${n}: ours ${us.toFixed(1)} µs CPU (${gops.toFixed(0)} GOP/s, ${gbs.toFixed(1)} GB/s of weights), ` +
        `ORT ${uo.toFixed(1)} µs; ORT/ours median ${median(ratios).toFixed(2)}× (range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); ` +
        `into {out} ${ui.toFixed(1)} µs (${((n * k) / ui / 1e3).toFixed(1)} GB/s, ${((2 * m * n * k) / ui / 1e3).toFixed(0)} GOP/s, ORT/into ${(uo / ui).toFixed(2)}×); ` +
        `read bw ${median(bw).toFixed(1)} GB/s (fresh ${((100 * gbs) / median(bw)).toFixed(0)} %)`,
    );
    await session.release();
  }
  console.log(`load at end ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
}

void main();
