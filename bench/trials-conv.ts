/**
 * Convolution trials: every conv layer of MobileNetV2 at 224×224 (the 3×3 stride-2 stem, every 1×1 expand/project
 * layer and every 3×3 depthwise layer, each distinct shape once with its count in the network), plus three
 * ResNet-style 3×3 layers with ≥ 64 input channels. Contenders, per layer and in the same process, alternated round
 * by round: simdtensor conv2d over packed weights (NHWC and NCHW, bias + ReLU6 fused), simdtensor's int8 conv
 * (u8 × per-channel s8, float32 out, bias + ReLU; not for depthwise), onnxruntime-node's Conv + Clip (NCHW, same
 * thread count) and TF.js's WASM backend (XNNPACK, SIMD, fused conv2d / depthwiseConv2d with bias + relu6, NHWC,
 * one thread). GFLOP/s, the share of the f32 FMA peak measured in the same run (native.probeF32Peak, before and
 * after), and the whole network's conv time (Σ count × median) per contender.
 *
 * The trials are data ({@link convTrials}); bench/run.ts runs this file as its own process (EXTRA_MODULES) because
 * the GEMM harness's trials are m×k×n shapes. Standalone:
 * `npm run build:ts && node dist/bench/trials-conv.js [--threads 1] [--rounds 7] [--quick] [--best] [--json file]`.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { stats } from './measure.js';
import { onnxModel, OnnxType } from './onnx.js';
import { native } from '../src/native.js';

type St = typeof import('../src/index.js');

/** One conv layer, as data: input H×W×C, M output channels, k×k kernel, stride, 'same' padding. */
export interface ConvTrial {
  id: string;
  h: number;
  c: number;
  m: number;
  k: number;
  stride: number;
  /** Where it comes from. */
  from: string;
  /** Depthwise (groups = C = M). */
  dw?: boolean;
  /** How many layers of this shape MobileNetV2 (224×224) has (0: not a MobileNetV2 layer). */
  count: number;
}

/** MobileNetV2 (224×224) full conv layers, each distinct shape once, and ResNet-style 3×3 layers. */
export function convTrials(quick = false, dry = false): ConvTrial[] {
  if (dry)
    return [
      { id: 'conv/dry/k3s2', h: 9, c: 3, m: 8, k: 3, stride: 2, from: 'dry run', count: 1 },
      { id: 'conv/dry/k1', h: 5, c: 16, m: 24, k: 1, stride: 1, from: 'dry run', count: 2 },
      { id: 'conv/dry/dw', h: 7, c: 24, m: 24, k: 3, stride: 1, from: 'dry run', dw: true, count: 1 },
    ];
  // [h, c, m, k, stride, from, count in MobileNetV2]; depthwise rows have m = c and 'dw' in `from`.
  const l: [number, number, number, number, number, string, number][] = [
    [224, 3, 32, 3, 2, 'mnv2 stem', 1],
    [112, 32, 16, 1, 1, 'mnv2 b1 project', 1],
    [112, 16, 96, 1, 1, 'mnv2 b2 expand', 1],
    [56, 96, 24, 1, 1, 'mnv2 b2 project', 1],
    [56, 24, 144, 1, 1, 'mnv2 b3 expand', 2],
    [56, 144, 24, 1, 1, 'mnv2 b3 project', 1],
    [28, 144, 32, 1, 1, 'mnv2 b4 project', 1],
    [28, 32, 192, 1, 1, 'mnv2 b5 expand', 3],
    [28, 192, 32, 1, 1, 'mnv2 b5 project', 2],
    [14, 192, 64, 1, 1, 'mnv2 b7 project', 1],
    [14, 64, 384, 1, 1, 'mnv2 b8 expand', 4],
    [14, 384, 64, 1, 1, 'mnv2 b8 project', 3],
    [14, 384, 96, 1, 1, 'mnv2 b11 project', 1],
    [14, 96, 576, 1, 1, 'mnv2 b12 expand', 3],
    [14, 576, 96, 1, 1, 'mnv2 b12 project', 2],
    [7, 576, 160, 1, 1, 'mnv2 b14 project', 1],
    [7, 160, 960, 1, 1, 'mnv2 b15 expand', 3],
    [7, 960, 160, 1, 1, 'mnv2 b15 project', 2],
    [7, 960, 320, 1, 1, 'mnv2 b17 project', 1],
    [7, 320, 1280, 1, 1, 'mnv2 head 1x1', 1],
    [112, 32, 32, 3, 1, 'mnv2 dw', 1],
    [112, 96, 96, 3, 2, 'mnv2 dw', 1],
    [56, 144, 144, 3, 1, 'mnv2 dw', 1],
    [56, 144, 144, 3, 2, 'mnv2 dw', 1],
    [28, 192, 192, 3, 1, 'mnv2 dw', 2],
    [28, 192, 192, 3, 2, 'mnv2 dw', 1],
    [14, 384, 384, 3, 1, 'mnv2 dw', 4],
    [14, 576, 576, 3, 1, 'mnv2 dw', 2],
    [14, 576, 576, 3, 2, 'mnv2 dw', 1],
    [7, 960, 960, 3, 1, 'mnv2 dw', 3],
    [56, 64, 64, 3, 1, 'resnet 3x3', 0],
    [28, 128, 128, 3, 1, 'resnet 3x3', 0],
    [14, 256, 256, 3, 1, 'resnet 3x3', 0],
  ];
  const rows = quick ? l.filter((_, i) => i % 4 === 0 || i >= l.length - 3) : l;
  return rows.map(([h, c, m, k, stride, from, count]) => {
    const dw = from.endsWith(' dw');
    return { id: `${dw ? 'dw' : 'conv'}/${h}x${h}x${c}->${m}/k${k}s${stride}`, h, c, m, k, stride, from, count, ...(dw ? { dw } : {}) };
  });
}

/** Result of one layer. */
export interface ConvResult {
  trial: ConvTrial;
  gflop: number;
  /** Median ms per call per contender. */
  ms: Record<string, number>;
  gflops: Record<string, number>;
  /** Our NHWC GFLOP/s over the f32 peak. */
  peakPct: number;
  /** onnxruntime-node time over ours (NHWC and NCHW); > 1 = we are faster. */
  vsOrt: { nhwc: number; nchw: number } | null;
  /** Our f32 NHWC time over our int8 NHWC time (NaN for depthwise layers: no int8 depthwise). */
  int8Speedup: number;
  /** TF.js WASM time over ours (NHWC), or null without TF.js. */
  vsTfjs: number | null;
  kernel: string;
}

/** Command-line options (dry: two tiny layers, one round, a short peak probe: a smoke test of the script). */
export interface ConvBenchOptions {
  threads: number;
  rounds: number;
  quick: boolean;
  dry?: boolean;
  /** Report the fastest round per contender instead of the median (on a loaded machine the median measures the
   * neighbours; say which one a figure is). */
  best?: boolean;
  json: string | null;
}
type Options = ConvBenchOptions;

function parse(argv: string[]): Options {
  const o: Options = { threads: 1, rounds: 7, quick: false, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads') o.threads = Number(argv[++i]);
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--quick') o.quick = true;
    else if (a === '--dry') o.dry = true;
    else if (a === '--best') o.best = true;
    else if (a === '--json') o.json = argv[++i];
    else throw new Error(`conv bench: unknown argument ${a} (use --threads n --rounds n --quick --dry --best --json file)`);
  }
  return o;
}

/** Times fn in batches of ≥ ~20 ms; returns ms per call of one batch. */
async function timeBatch(fn: () => unknown, estMs: number, dry = false): Promise<number> {
  const reps = dry ? 1 : Math.max(1, Math.round(20 / Math.max(estMs, 1e-3)));
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await fn();
  return (performance.now() - t0) / reps;
}

type Tf = typeof import('@tensorflow/tfjs-core');

/** TF.js with its WASM backend (XNNPACK, SIMD when the runtime has it) on `threads` threads, or null without it. */
async function loadTfjsWasm(threads: number, log: (s: string) => void): Promise<Tf | null> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(threads);  // before the backend starts; Node's wasm build here is single-threaded anyway
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
    await tf.ready();
    return tf;
  } catch (e) {
    log(`TF.js WASM not available (${(e as Error).message}): no TF.js column`);
    return null;
  }
}

/** Σ count × median ms over the MobileNetV2 layers, per contender, and the ratios the targets name. */
export interface NetworkSum {
  layers: number;
  ms: Record<string, number>;
  /** onnxruntime-node / ours and TF.js WASM / ours (NHWC and NCHW); > 1 = we are faster. */
  ortOverNhwc: number | null;
  ortOverNchw: number | null;
  tfjsOverNhwc: number | null;
}

/** The whole-network sum of a run's MobileNetV2 layers (null when the run has none). */
export function mobilenetSum(results: ConvResult[]): NetworkSum | null {
  const rows = results.filter((r) => r.trial.count > 0 && r.trial.from.startsWith('mnv2'));
  if (!rows.length) return null;
  const names = Object.keys(rows[0].ms).filter((k) => !k.includes('int8') && rows.every((r) => r.ms[k] !== undefined));
  const ms: Record<string, number> = {};
  for (const k of names) ms[k] = rows.reduce((a, r) => a + r.trial.count * r.ms[k], 0);
  const ratio = (a: string, b: string) => (ms[a] !== undefined && ms[b] !== undefined ? ms[a] / ms[b] : null);
  return {
    layers: rows.reduce((a, r) => a + r.trial.count, 0),
    ms,
    ortOverNhwc: ratio('onnxruntime-node', 'simdtensor nhwc'),
    ortOverNchw: ratio('onnxruntime-node', 'simdtensor nchw'),
    tfjsOverNhwc: ratio('tfjs-wasm', 'simdtensor nhwc'),
  };
}

/** Runs every trial; contenders alternate within each round so load changes hit them alike. */
export async function runConvBench(st: St, o: Options, log = console.log): Promise<{ peak: number[]; results: ConvResult[] }> {
  st.setNumThreads(o.threads);
  let ort: typeof import('onnxruntime-node') | null = null;
  try {
    ort = await import('onnxruntime-node');
  } catch {
    log('onnxruntime-node not available: our figures only');
  }
  const tf = await loadTfjsWasm(o.threads, log);
  const probeMs = o.dry ? 5 : 300;
  const peak = [native.probeF32Peak(probeMs)];
  const results: ConvResult[] = [];
  for (const t of convTrials(o.quick, o.dry)) {
    const pad = Math.floor((t.k - 1) / 2);
    const oh = Math.floor((t.h + 2 * pad - t.k) / t.stride) + 1;
    const cg = t.dw ? 1 : t.c;  // input channels per output channel
    const gflop = (2 * oh * oh * t.m * cg * t.k * t.k) / 1e9;
    const xN = st.rand([1, t.c, t.h, t.h], { seed: 1 });
    const xH = st.nchwToNhwc(xN);  // the same values, so every contender's output can be compared
    const w = st.rand([t.m, cg, t.k, t.k], { seed: 2 });
    // hwio [k, k, cg, m] from oihw (for depthwise this is TF.js's [k, k, C, 1] filter layout too).
    const wH = st.tensor(Float32Array.from({ length: w.size }, (_, i) => {
      const o = i % t.m, ci = Math.floor(i / t.m) % cg, kk = Math.floor(i / (t.m * cg));
      return (w.data as Float32Array)[(o * cg + ci) * t.k * t.k + kk];
    }), [t.k, t.k, cg, t.m]);
    const b = st.rand([t.m], { seed: 3 });
    const common = { strides: t.stride, pads: [pad, pad, pad, pad] as [number, number, number, number], activation: 'relu6' as const };
    let runs: Record<string, () => unknown>;
    let outN: import('../src/index.js').Tensor, outH: import('../src/index.js').Tensor;
    if (t.dw) {
      const wHwcm = st.tensor(wH.data, [t.k, t.k, t.c, 1]);
      outN = st.depthwiseConv2d(xN, w, { ...common, bias: b });
      outH = st.depthwiseConv2d(xH, wHwcm, { ...common, bias: b, layout: 'nhwc' });
      runs = {
        'simdtensor nhwc': () => st.depthwiseConv2d(xH, wHwcm, { ...common, bias: b, layout: 'nhwc', out: outH }),
        'simdtensor nchw': () => st.depthwiseConv2d(xN, w, { ...common, bias: b, out: outN }),
      };
    } else {
      const pN = st.packConvWeights(w, { bias: b });
      const pH = st.packConvWeights(wH, { weightLayout: 'hwio', bias: b });
      outN = st.conv2d(xN, pN, common);
      outH = st.conv2d(xH, pH, { ...common, layout: 'nhwc' });
      // int8: u8 activations × per-channel s8 weights, float32 out with bias + ReLU.
      const qx = st.quantize(xH, { dtype: 'uint8' });
      const qw = st.packConvWeights(st.quantize(wH, { axis: 3 }), { weightLayout: 'hwio', bias: b });
      const outQ = st.conv2d(qx, qw, { strides: t.stride, pads: common.pads, activation: 'relu', layout: 'nhwc' }) as import('../src/index.js').Tensor;
      runs = {
        'simdtensor nhwc': () => st.conv2d(xH, pH, { ...common, layout: 'nhwc', out: outH }),
        'simdtensor nchw': () => st.conv2d(xN, pN, { ...common, out: outN }),
        'simdtensor int8 nhwc': () => st.conv2d(qx, qw, { strides: t.stride, pads: common.pads, activation: 'relu', layout: 'nhwc', out: outQ }),
      };
    }
    const tol = 1e-3 * Math.sqrt(cg * t.k * t.k);
    const check = (who: string, r: Float32Array, want: Float32Array) => {
      let maxErr = 0;
      for (let i = 0; i < r.length; i++) maxErr = Math.max(maxErr, Math.abs(r[i] - want[i]));
      if (!(maxErr <= tol) || r.length !== want.length) throw new Error(`${t.id}: ${who} differs from simdtensor by ${maxErr}`);
    };
    const tfTensors: { dispose(): void }[] = [];
    if (tf) {
      const x = tf.tensor4d(xH.data as Float32Array, [1, t.h, t.h, t.c]);
      const filter = tf.tensor4d(wH.data as Float32Array, t.dw ? [t.k, t.k, t.c, 1] : [t.k, t.k, t.c, t.m]);
      const bias = tf.tensor1d(b.data as Float32Array);
      tfTensors.push(x, filter, bias);
      const args = { x, filter, strides: t.stride, pad: pad === 0 ? ('valid' as const) : pad, bias, activation: 'relu6' as const };
      const call = t.dw ? () => tf.fused.depthwiseConv2d(args) : () => tf.fused.conv2d(args);
      runs['tfjs-wasm'] = () => call().dispose();
      const y = call();
      check('TF.js WASM', y.dataSync() as Float32Array, outH.data as Float32Array);
      y.dispose();
    }
    let session: import('onnxruntime-node').InferenceSession | null = null;
    if (ort) {
      const model = onnxModel({
        nodes: [
          { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { strides: [t.stride, t.stride], pads: [pad, pad, pad, pad], kernel_shape: [t.k, t.k], group: t.dw ? t.c : 1 } },
          { op: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', type: OnnxType.FLOAT, dims: [1, t.c, t.h, t.h] }],
        outputs: [{ name: 'y', type: OnnxType.FLOAT, dims: [1, t.m, oh, oh] }],
        initializers: [
          { name: 'w', type: OnnxType.FLOAT, dims: [t.m, cg, t.k, t.k], data: w.data },
          { name: 'b', type: OnnxType.FLOAT, dims: [t.m], data: b.data },
          { name: 'lo', type: OnnxType.FLOAT, dims: [], data: new Float32Array([0]) },
          { name: 'hi', type: OnnxType.FLOAT, dims: [], data: new Float32Array([6]) },
        ],
      });
      const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: o.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      session = s;
      const feeds = { x: new ort.Tensor('float32', xN.data as Float32Array, [1, t.c, t.h, t.h]) };
      runs['onnxruntime-node'] = () => s.run(feeds);
      // Agreement check (the bench refuses to time a contender that computes something else).
      check('onnxruntime-node', (await s.run(feeds)).y.data as Float32Array, outN.data as Float32Array);
    }
    const samples: Record<string, number[]> = {};
    const est: Record<string, number> = {};
    for (const [name, fn] of Object.entries(runs)) {
      const t0 = performance.now();
      await fn();
      est[name] = performance.now() - t0;
      samples[name] = [];
    }
    for (let r = 0; r < o.rounds; r++)
      for (const [name, fn] of Object.entries(runs)) samples[name].push(await timeBatch(fn, est[name], o.dry));
    await session?.release();
    for (const x of tfTensors) x.dispose();
    const ms: Record<string, number> = {};
    const gf: Record<string, number> = {};
    for (const name of Object.keys(runs)) {
      const st8 = stats(samples[name]);
      ms[name] = o.best ? st8.min : st8.median;
      gf[name] = gflop / (ms[name] / 1e3);
    }
    const res: ConvResult = {
      trial: t,
      gflop,
      ms,
      gflops: gf,
      peakPct: 0,
      vsOrt: ms['onnxruntime-node'] ? { nhwc: ms['onnxruntime-node'] / ms['simdtensor nhwc'], nchw: ms['onnxruntime-node'] / ms['simdtensor nchw'] } : null,
      int8Speedup: t.dw ? NaN : ms['simdtensor nhwc'] / ms['simdtensor int8 nhwc'],
      vsTfjs: ms['tfjs-wasm'] ? ms['tfjs-wasm'] / ms['simdtensor nhwc'] : null,
      kernel: `${st.cpuInfo().kernels['conv2d.f32']}, int8 ${st.cpuInfo().kernels['conv2d.s8']}`,
    };
    results.push(res);
    log(`${t.id.padEnd(32)} ${Object.entries(gf).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' | ')}${res.vsOrt ? ` | vs ORT ${res.vsOrt.nhwc.toFixed(2)}x / ${res.vsOrt.nchw.toFixed(2)}x` : ''}`);
  }
  peak.push(native.probeF32Peak(probeMs));
  const pk = Math.max(...peak);
  for (const r of results) r.peakPct = (100 * r.gflops['simdtensor nhwc']) / (pk * o.threads);
  return { peak, results };
}

/** The markdown table of a run. */
export function convTable(peak: number[], results: ConvResult[]): string {
  const pk = Math.max(...peak);
  const lines = [
    `f32 FMA peak (one core, probe before/after): ${peak.map((p) => p.toFixed(1)).join(' / ')} GFLOP/s; kernel ${results[0]?.kernel ?? '?'}`,
    '',
    '| layer | from | × in net | GFLOP | ours NHWC GFLOP/s | % of peak | ours NCHW GFLOP/s | ORT GFLOP/s | TF.js WASM GFLOP/s | vs ORT (NHWC / NCHW) | vs TF.js | int8 GOP/s | int8 / f32 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const f = (v: number | undefined, d = 1) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
  for (const r of results) {
    lines.push(
      `| ${r.trial.id} | ${r.trial.from} | ${r.trial.count} | ${r.gflop.toFixed(3)} | ${f(r.gflops['simdtensor nhwc'])} | ${((100 * r.gflops['simdtensor nhwc']) / pk).toFixed(0)} % | ${f(r.gflops['simdtensor nchw'])} | ${f(r.gflops['onnxruntime-node'])} | ${f(r.gflops['tfjs-wasm'])} | ${r.vsOrt ? `${r.vsOrt.nhwc.toFixed(2)}× / ${r.vsOrt.nchw.toFixed(2)}×` : '–'} | ${r.vsTfjs ? `${r.vsTfjs.toFixed(2)}×` : '–'} | ${f(r.gflops['simdtensor int8 nhwc'])} | ${r.trial.dw ? '–' : `${r.int8Speedup.toFixed(2)}×`} |`,
    );
  }
  const sum = mobilenetSum(results);
  if (sum) {
    lines.push('', `MobileNetV2 224×224, all ${sum.layers} conv layers (Σ count × median): ${Object.entries(sum.ms).map(([k, v]) => `${k} ${v.toFixed(3)} ms`).join(' · ')}`);
    const x = (v: number | null) => (v === null ? '–' : `${v.toFixed(2)}×`);
    lines.push(`onnxruntime-node / ours: ${x(sum.ortOverNhwc)} (NHWC), ${x(sum.ortOverNchw)} (NCHW); TF.js WASM / ours (NHWC): ${x(sum.tfjsOverNhwc)}`);
    const below = results.filter((r) => r.trial.count > 0 && r.vsOrt && r.vsOrt.nchw < 1).map((r) => r.trial.id);
    const belowH = results.filter((r) => r.trial.count > 0 && r.vsOrt && r.vsOrt.nhwc < 1).map((r) => r.trial.id);
    lines.push(`MobileNetV2 layers below 1.0× onnxruntime-node: NHWC ${belowH.length ? belowH.join(', ') : 'none'}; NCHW ${below.length ? below.join(', ') : 'none'}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const st: St = await import('../src/index.js');
  console.log(`${st.cpuInfo().brand} · threads ${o.threads} · rounds ${o.rounds} · ${o.best ? 'fastest round' : 'median'} per figure · load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const { peak, results } = await runConvBench(st, o, () => {});
  const table = convTable(peak, results);
  console.log(o.best ? table.replace('Σ count × median', 'Σ count × fastest round') : table);
  console.log(`load after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ peak, results, mobilenet: mobilenetSum(results) }, null, 2));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
