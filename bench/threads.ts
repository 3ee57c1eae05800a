/**
 * Thread scaling of the executor: speedup and parallel efficiency versus thread count for f32 and int8 GEMM at the
 * foundation's shapes, with CPU time beside wall time (so spinning or duplicated work cannot hide in a speedup),
 * plus the round-trip overhead of an async call and the event-loop lag during a long async GEMM.
 *
 * Standalone: `npm run build:ts && node dist/bench/threads.js [--threads 1,2,4] [--reps 10] [--quick] [--json f]`.
 * bench/run.ts may import {@link threadTrials} and {@link runThreadBench}.
 * @module
 */
import { promises as fsp, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { cpuMs, lagProbe, stats } from './measure.js';
import { GEMM_SHAPES } from './trials.js';
import { native } from '../src/native.js';

type St = typeof import('../src/index.js');

/** One scaling trial, as data. */
export interface ThreadTrial {
  id: string;
  family: 'f32' | 'int8';
  m: number;
  k: number;
  n: number;
  /** Operations per call (2·m·k·n). */
  ops: number;
}

/** The foundation's GEMM shapes for f32 and int8 (u8 activations × packed s8 weights → int32). */
export function threadTrials(quick = false): ThreadTrial[] {
  const shapes = quick ? GEMM_SHAPES.filter(([m, k, n]) => m * k * n >= 1024 ** 3 || m === 1) : GEMM_SHAPES;
  const out: ThreadTrial[] = [];
  for (const family of ['f32', 'int8'] as const)
    for (const [m, k, n] of shapes) out.push({ id: `${family}/${m}x${k}x${n}`, family, m, k, n, ops: 2 * m * k * n });
  return out;
}

/** Measurements of one trial at one thread count. */
export interface ThreadPoint {
  threads: number;
  /** Wall ms per call: best of the reps, and the median. */
  wallBestMs: number;
  wallMedianMs: number;
  /** Process CPU ms (user + system, every thread) per call: median over reps, and at the best-wall rep. */
  cpuMedianMs: number;
  /** GFLOP/s or GOP/s at the best wall time. */
  rate: number;
  /** Best wall at 1 thread / best wall here. */
  speedup: number;
  /** speedup / threads. */
  efficiency: number;
  /** Median CPU per call here / median CPU per call at 1 thread (1.0 = no work added by threading). */
  cpuRatio: number;
  /**
   * What the threads did (per-thread CPU clocks, so host preemption does not blur it): CPU ms per call of the
   * calling thread plus the pool workers, the share of the busiest thread, and the speedup the split delivers when
   * every thread has a core to itself = (thread CPU at 1 thread) / (busiest thread's CPU here).
   */
  threadCpuMs: number;
  busiestShare: number;
  cpuSpeedup: number;
}

/** One trial's result. */
export interface ThreadResult {
  trial: ThreadTrial;
  kernel: string;
  points: ThreadPoint[];
}

/** Round trip of an async call and event-loop lag. */
export interface AsyncResult {
  /** Median µs per call, sequential: the sync op, and `await` of its async form. Small = 4×4×4 (runs inline). */
  small: { syncUs: number; asyncUs: number; asyncBestUs: number };
  /** The same for 64×64×64 (above the inline threshold: a real hop to a pool thread and back). */
  hop: { syncUs: number; asyncUs: number; asyncBestUs: number; overheadUs: number };
  /** µs per op with 64 async 64×64×64 ops in flight at once. */
  hopPipelinedUs: number;
  /**
   * The platform's floor for the same hop: median µs of `await fs.promises.stat(cwd)`, a ~1 µs syscall that Node
   * itself runs on libuv's threadpool and settles through the event loop (a thread wake each way, like ours).
   */
  libuvHopUs: number;
  /** setInterval(1 ms) lag while one ~1 s async GEMM runs. */
  lag: { gemm: string; durationMs: number; ticks: number; p50: number; p99: number; max: number };
}

/** Options of {@link runThreadBench}. */
export interface ThreadBenchOptions {
  threads: number[];
  reps: number;
  quick: boolean;
  log: (line: string) => void;
}


async function makeRunner(st: St, t: ThreadTrial): Promise<{ run: () => unknown; kernel: string }> {
  if (t.family === 'f32') {
    const a = st.rand([t.m, t.k], { seed: 1 });
    const w = st.packWeights(st.rand([t.n, t.k], { seed: 2 })) as InstanceType<St['PackedWeights']>;
    const out = st.zeros([t.m, t.n]);
    return { run: () => st.linear(a, w, null, { out }), kernel: st.cpuInfo().kernels['matmul.f32'] };
  }
  const a = st.rand([t.m, t.k], { seed: 1, dtype: 'uint8' });
  const w = st.packWeights(st.rand([t.n, t.k], { seed: 2, dtype: 'int8' }));
  const out = st.zeros([t.m, t.n], 'int32');
  const kernel = st.cpuInfo().kernels['matmul.s8'] ?? 'int8';
  return { run: () => st.matmul(a, w, { out }), kernel };
}

/**
 * Times every trial at every thread count, interleaved (each rep runs every thread count once, in a rotated order)
 * so load from other processes hits all counts alike.
 */
export async function runThreadBench(st: St, o: ThreadBenchOptions): Promise<ThreadResult[]> {
  const results: ThreadResult[] = [];
  const saved = st.getNumThreads();
  try {
    for (const t of threadTrials(o.quick)) {
      const { run, kernel } = await makeRunner(st, t);
      // Warm-up at every count (pool threads created, scratch buffers grown, pages touched).
      for (const T of o.threads) {
        st.setNumThreads(T);
        const end = performance.now() + 100;
        do run();
        while (performance.now() < end);
      }
      // Calls per sample so one sample lasts >= ~20 ms at 1 thread (small shapes are noise otherwise).
      st.setNumThreads(1);
      const t0 = performance.now();
      run();
      const one = performance.now() - t0;
      const calls = Math.max(1, Math.min(1000, Math.ceil(20 / Math.max(one, 1e-3))));
      const wall = new Map<number, number[]>(o.threads.map((T) => [T, []]));
      const cpu = new Map<number, number[]>(o.threads.map((T) => [T, []]));
      const thr = new Map<number, number[]>(o.threads.map((T) => [T, []]));
      const busiest = new Map<number, number[]>(o.threads.map((T) => [T, []]));
      for (let r = 0; r < o.reps; r++) {
        for (let j = 0; j < o.threads.length; j++) {
          const T = o.threads[(j + r) % o.threads.length];
          st.setNumThreads(T);
          run();
          const t0c = native.threadCpuTimes();
          const c0 = process.cpuUsage();
          const w0 = performance.now();
          for (let i = 0; i < calls; i++) run();
          const w1 = performance.now();
          const c1 = process.cpuUsage(c0);
          const t1c = native.threadCpuTimes();
          wall.get(T)!.push((w1 - w0) / calls);
          cpu.get(T)!.push(cpuMs(c1) / calls);
          const per = [t1c.caller - t0c.caller, ...t1c.workers.map((x, i) => x - (t0c.workers[i] ?? 0))];
          thr.get(T)!.push(per.reduce((x, y) => x + y, 0) / calls);
          busiest.get(T)!.push(Math.max(...per) / calls);
        }
      }
      const base = Math.min(...wall.get(o.threads[0])!);
      const baseCpu = stats(cpu.get(o.threads[0])!).median;
      const baseThr = stats(thr.get(o.threads[0])!).median;
      const points = o.threads.map((T): ThreadPoint => {
        const best = Math.min(...wall.get(T)!);
        const speedup = base / best;
        return {
          threads: T,
          wallBestMs: best,
          wallMedianMs: stats(wall.get(T)!).median,
          cpuMedianMs: stats(cpu.get(T)!).median,
          rate: t.ops / (best * 1e6),
          speedup,
          efficiency: speedup / T,
          cpuRatio: stats(cpu.get(T)!).median / baseCpu,
          threadCpuMs: stats(thr.get(T)!).median,
          busiestShare: stats(busiest.get(T)!).median / stats(thr.get(T)!).median,
          cpuSpeedup: baseThr / stats(busiest.get(T)!).median,
        };
      });
      results.push({ trial: t, kernel, points });
      o.log(formatResult({ trial: t, kernel, points }));
    }
  } finally {
    st.setNumThreads(saved);
  }
  return results;
}

function formatResult(r: ThreadResult): string {
  const unit = r.trial.family === 'int8' ? 'GOP/s' : 'GFLOP/s';
  const rows = r.points.map(
    (p) =>
      `  T=${String(p.threads).padEnd(2)} best ${p.wallBestMs.toFixed(3).padStart(9)} ms  median ${p.wallMedianMs.toFixed(3).padStart(9)} ms  ` +
      `${p.rate.toFixed(1).padStart(7)} ${unit}  speedup ${p.speedup.toFixed(2)}×  eff ${(p.efficiency * 100).toFixed(0).padStart(3)}%  ` +
      `cpu ${p.cpuMedianMs.toFixed(3).padStart(9)} ms/call (×${p.cpuRatio.toFixed(2)} of T=1)  ` +
      `threads: busiest ${(p.busiestShare * 100).toFixed(0)}% of ${p.threadCpuMs.toFixed(3)} ms → ${p.cpuSpeedup.toFixed(2)}× on own cores`,
  );
  return [`${r.trial.id} (${r.kernel})`, ...rows].join('\n');
}

/** Round trip of async ops (inline-sized and pool-sized), pipelined throughput, and event-loop lag. */
export async function runAsyncBench(st: St, log: (l: string) => void): Promise<AsyncResult> {
  const sample = async (f: () => unknown | Promise<unknown>, n: number): Promise<number[]> => {
    const xs: number[] = [];
    for (let r = 0; r < 15; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await f();
      xs.push(((performance.now() - t0) * 1000) / n);
    }
    return xs;
  };
  const measure = async (size: number, n: number) => {
    const a = st.rand([size, size], { seed: 1 });
    const out = st.zeros([size, size]);
    await sample(() => st.matmulAsync(a, a, { out }), 50);
    const sync = stats(await sample(() => st.matmul(a, a, { out }), n * 4));
    const as = stats(await sample(() => st.matmulAsync(a, a, { out }), n));
    return { syncUs: sync.median, asyncUs: as.median, asyncBestUs: as.min };
  };
  const small = await measure(4, 500);
  const h = await measure(64, 300);
  const hop = { ...h, overheadUs: h.asyncUs - h.syncUs };
  const a64 = st.rand([64, 64], { seed: 2 });
  const outs = Array.from({ length: 64 }, () => st.zeros([64, 64]));
  const pipe: number[] = [];
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await Promise.all(outs.map((o) => st.matmulAsync(a64, a64, { out: o })));
    pipe.push(((performance.now() - t0) * 1000) / (5 * outs.length));
  }
  const hopPipelinedUs = stats(pipe).median;
  const cwd = process.cwd();
  await sample(() => fsp.stat(cwd), 50);
  const libuvHopUs = stats(await sample(() => fsp.stat(cwd), 300)).median;
  log(`async 4×4×4 (inline): sync ${small.syncUs.toFixed(2)} µs, await matmulAsync ${small.asyncUs.toFixed(2)} µs median (best ${small.asyncBestUs.toFixed(2)})`);
  log(`async 64×64×64 (pool thread): sync ${hop.syncUs.toFixed(2)} µs, await matmulAsync ${hop.asyncUs.toFixed(2)} µs median (best ${hop.asyncBestUs.toFixed(2)}), round-trip overhead ${hop.overheadUs.toFixed(2)} µs; ${hopPipelinedUs.toFixed(2)} µs/op with 64 in flight; for comparison Node's own await fs.promises.stat (libuv threadpool hop) ${libuvHopUs.toFixed(2)} µs`);
  // Lag: a GEMM sized to ~1 s at the current thread count.
  const probe = st.rand([512, 512], { seed: 3 });
  let t0 = performance.now();
  await st.matmulAsync(probe, probe);
  const gflops = (2 * 512 ** 3) / ((performance.now() - t0) * 1e6);
  const n = Math.max(512, Math.min(4096, Math.round(Math.cbrt((1.0 * gflops * 1e9) / 2) / 64) * 64));
  const big = st.rand([n, n], { seed: 4 });
  const bigOut = st.zeros([n, n]);
  const stopLag = lagProbe();
  t0 = performance.now();
  await st.matmulAsync(big, big, { out: bigOut });
  const durationMs = performance.now() - t0;
  const lags = stopLag();
  const ls = stats(lags);
  const sorted = [...lags].sort((x, y) => x - y);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? NaN;
  const lag = { gemm: `${n}×${n}×${n}`, durationMs, ticks: lags.length, p50: ls.median, p99, max: ls.max };
  log(`event-loop lag during a ${durationMs.toFixed(0)} ms async GEMM ${lag.gemm}: ${lag.ticks} ticks of setInterval(1 ms), lag p50 ${lag.p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${lag.max.toFixed(2)} ms`);
  return { small, hop, hopPipelinedUs, libuvHopUs, lag };
}

function parse(argv: string[]): ThreadBenchOptions & { json?: string; skipAsync: boolean } {
  const o = { threads: [] as number[], reps: 10, quick: false, log: (l: string) => console.log(l), json: undefined as string | undefined, skipAsync: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads') o.threads = argv[++i].split(',').map(Number);
    else if (a === '--reps') o.reps = Number(argv[++i]);
    else if (a === '--quick') o.quick = true;
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--no-async') o.skipAsync = true;
    else throw new Error(`threads bench: unknown argument ${a} (use --threads 1,2 --reps 10 --quick --json file --no-async)`);
  }
  return o;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const st: St = await import('../src/index.js');
  const d = st.defaultNumThreads();
  if (o.threads.length === 0) o.threads = [...new Set([1, 2, 4, 8, 16, d].filter((t) => t <= Math.max(2, d)))].sort((x, y) => x - y);
  if (o.threads[0] !== 1) o.threads.unshift(1);
  const info = st.cpuInfo();
  const header = `${info.brand} · ${availableParallelism()} CPUs usable (default threads ${d}) · load ${loadavg().map((x) => x.toFixed(1)).join(' ')} · spin ${st.executorStats().spinUs} µs · reps ${o.reps}`;
  console.log(header);
  const results = await runThreadBench(st, o);
  const asyncRes = o.skipAsync ? null : await runAsyncBench(st, o.log);
  console.log(`load after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ header, results, async: asyncRes }, null, 2));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
