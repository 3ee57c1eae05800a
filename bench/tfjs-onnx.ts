/**
 * nsfwjs MobileNetV2 as an ONNX graph, on onnxruntime-node and simdtensor's loadOnnx, against the same model on the
 * TF.js 'simdtensor' backend after optimizeLayersModel (issue #15: within 1.3× of onnxruntime on the same network).
 *
 *   node dist/bench/tfjs-onnx.js [--batch 1,16] [--reps 7] [--threads 1] [--images 2] [--save mobilenet.onnx] [--json f]
 *
 * The graph is written from the tfjs-layers model's own weights with the fold optimizeLayersModel makes (each
 * batch norm folded into its conv's weights and bias, each ZeroPadding2D into the conv's pads, ReLU(6) → Clip):
 * input NHWC → Transpose → Div 255 → 52 Conv (+ Clip) with 10 Add → GlobalAveragePool → Flatten → 3 Gemm
 * (Relu, Relu, Softmax). Every contender gets the same NHWC float batch, including the /255, and the outputs are
 * checked against each other (|Δp| ≤ 1e-4) before anything is timed. Contenders alternate within each round;
 * medians of process CPU time and wall time per run.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { loadOnnx, setNumThreads } from '../src/index.js';
import { cpuMs, flag, median } from './measure.js';
import { G, T, maxDiff } from './onnx-models.js';
import { loadTfjs, type Any } from './tfjs-env.js';

const args = process.argv.slice(2);
const BATCHES = flag('--batch', '1,16').split(',').map(Number);
const REPS = Number(flag('--reps', '7'));
const THREADS = Number(flag('--threads', '1'));
const IMAGES = Number(flag('--images', '2'));
const SAVE = flag('--save', '');
const JSON_OUT = flag('--json', '');

const cls = (l: Any): string => l.getClassName();
const f32 = (t: Any): Float32Array => t.read().dataSync() as Float32Array;

/** TF 'SAME' pads [begin, end] of one spatial dimension. */
function samePads(inp: number, k: number, s: number, d: number): [number, number] {
  const ek = (k - 1) * d + 1;
  const total = Math.max(0, (Math.ceil(inp / s) - 1) * s + ek - inp);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The ONNX graph of a tfjs-layers model made of InputLayer, ZeroPadding2D, Conv2D, DepthwiseConv2D,
 * BatchNormalization (after a conv, folded into it), ReLU, Add, AveragePooling2D (global), Flatten, Dense and
 * Dropout (identity at inference): the layers nsfwjs's MobileNetV2 uses. Throws on anything else.
 */
export function layersToOnnx(model: Any): Uint8Array {
  const g = new G(17);
  const inShape = model.inputs[0].shape as (number | null)[];
  const input = g.input('input', T.FLOAT, ['batch', ...(inShape.slice(1) as number[])]);
  const nchw = g.node('Transpose', [input], { perm: [0, 3, 1, 2] });
  const name = new Map<string, string>([[model.inputLayers[0].name, g.node('Div', [nchw, g.scalar('inv255', 255)])]]);
  const folded = new Set<Any>(); // batch norms / paddings already taken into a conv
  const consumers = (l: Any): Any[] => l.outboundNodes.map((n: Any) => n.outboundLayer);
  const src = (l: Any, i = 0): Any => l.inboundNodes[0].inboundLayers[i];
  let seq = 0;
  for (const l of model.layers as Any[]) {
    const c = cls(l);
    if (c === 'InputLayer' || folded.has(l)) continue;
    const inputs = (l.inboundNodes[0].inboundLayers as Any[]).map((p) => {
      const v = name.get(p.name);
      if (v === undefined) throw new Error(`layersToOnnx: ${l.name} reads ${p.name}, which has no value`);
      return v;
    });
    let out: string;
    if (c === 'ZeroPadding2D') {
      const next = consumers(l);
      if (next.length !== 1 || !['Conv2D', 'DepthwiseConv2D'].includes(cls(next[0])) || next[0].padding !== 'valid') throw new Error(`layersToOnnx: ${l.name} must feed one 'valid' conv`);
      out = inputs[0]; // the conv takes the pads
    } else if (c === 'Conv2D' || c === 'DepthwiseConv2D') {
      const dw = c === 'DepthwiseConv2D';
      if (l.dataFormat !== 'channelsLast' || cls(l.activation).toLowerCase() !== 'linear') throw new Error(`layersToOnnx: ${l.name}: only channelsLast, linear`);
      const K = f32(dw ? l.depthwiseKernel : l.kernel);
      const [kh, kw, ci, co] = (dw ? l.depthwiseKernel : l.kernel).shape as number[];
      const outC = dw ? ci * co : co; // depthwise: co is the channel multiplier
      const scale = new Float32Array(outC).fill(1);
      const bias = l.bias ? Float32Array.from(f32(l.bias)) : new Float32Array(outC);
      const next = consumers(l);
      const bn = next.length === 1 && cls(next[0]) === 'BatchNormalization' ? next[0] : null;
      if (bn) {
        const mean = f32(bn.movingMean), variance = f32(bn.movingVariance);
        const gamma = bn.gamma ? f32(bn.gamma) : null, beta = bn.beta ? f32(bn.beta) : null;
        for (let o = 0; o < outC; o++) {
          const k = (gamma ? gamma[o] : 1) / Math.sqrt(variance[o] + bn.epsilon);
          scale[o] = k;
          bias[o] = (bias[o] - mean[o]) * k + (beta ? beta[o] : 0);
        }
        folded.add(bn);
      }
      // Weights OIHW: conv [co, ci, kh, kw] from HWIO; depthwise [ci·m, 1, kh, kw] from [kh, kw, ci, m], group ci.
      const W = new Float32Array(K.length);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let i = 0; i < ci; i++)
            for (let o = 0; o < co; o++) {
              const v = K[((y * kw + x) * ci + i) * co + o];
              if (dw) W[((i * co + o) * kh + y) * kw + x] = v * scale[i * co + o];
              else W[((o * ci + i) * kh + y) * kw + x] = v * scale[o];
            }
      const [sh, sw] = l.strides as number[];
      const [dh, dwd] = (l.dilationRate ?? [1, 1]) as number[];
      let pads = [0, 0, 0, 0];
      const prev = src(l);
      if (cls(prev) === 'ZeroPadding2D') {
        const [[t, b], [le, r]] = prev.padding as number[][];
        pads = [t, le, b, r];
      } else if (l.padding === 'same') {
        const [, h, w] = prev.outputShape as number[];
        const ph = samePads(h, kh, sh, dh), pw = samePads(w, kw, sw, dwd);
        pads = [ph[0], pw[0], ph[1], pw[1]];
      }
      const p = `${l.name}_${seq++}`;
      out = g.node('Conv', [inputs[0], g.f32(`${p}_w`, dw ? [outC, 1, kh, kw] : [co, ci, kh, kw], W), g.f32(`${p}_b`, [outC], bias)], {
        kernel_shape: [kh, kw],
        strides: [sh, sw],
        dilations: [dh, dwd],
        pads,
        group: dw ? ci : 1,
      });
      if (bn) name.set(bn.name, out);
    } else if (c === 'BatchNormalization') {
      throw new Error(`layersToOnnx: ${l.name}: a batch norm that does not follow a conv`);
    } else if (c === 'ReLU') {
      if (l.maxValue == null) out = g.node('Relu', inputs);
      else out = g.node('Clip', [inputs[0], g.scalar(`${l.name}_lo`, 0), g.scalar(`${l.name}_hi`, l.maxValue)]);
    } else if (c === 'Add') {
      out = inputs.slice(1).reduce((a, b) => g.node('Add', [a, b]), inputs[0]);
    } else if (c === 'AveragePooling2D') {
      const [, h, w] = src(l).outputShape as number[];
      const [ph, pw] = l.poolSize as number[];
      if (ph !== h || pw !== w || l.padding !== 'valid') throw new Error(`layersToOnnx: ${l.name}: only a global average pool`);
      out = g.node('GlobalAveragePool', inputs);
    } else if (c === 'Flatten') {
      const [, h, w] = src(l).outputShape as number[];
      if (h !== 1 || w !== 1) throw new Error(`layersToOnnx: ${l.name}: Flatten of a 1×1 map only (NCHW and NHWC orders agree there)`);
      out = g.node('Flatten', inputs, { axis: 1 });
    } else if (c === 'Dense') {
      const [fin, fout] = l.kernel.shape as number[];
      const p = `${l.name}_${seq++}`;
      const b = l.bias ? f32(l.bias) : new Float32Array(fout);
      out = g.node('Gemm', [inputs[0], g.f32(`${p}_w`, [fin, fout], f32(l.kernel)), g.f32(`${p}_b`, [fout], b)]);
      const act = cls(l.activation).toLowerCase();
      if (act === 'relu') out = g.node('Relu', [out]);
      else if (act === 'softmax') out = g.node('Softmax', [out], { axis: -1 });
      else if (act !== 'linear') throw new Error(`layersToOnnx: ${l.name}: activation ${act}`);
    } else if (c === 'Dropout') {
      out = inputs[0];
    } else throw new Error(`layersToOnnx: layer ${l.name} (${c}) is not covered`);
    name.set(l.name, out);
  }
  const last = name.get(model.outputLayers[0].name)!;
  g.node('Identity', [last], {}, ['probs']);
  g.output('probs', T.FLOAT, ['batch', (model.outputs[0].shape as number[])[1]]);
  return g.bytes();
}

/** A deterministic NHWC 224×224×3 image in [0, 255] (smooth gradients plus seeded noise). */
function image(seed: number): Float32Array {
  const n = 224, out = new Float32Array(n * n * 3);
  let s = (seed * 2654435761) >>> 0;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const fx = 0.02 + 0.05 * rnd(), fy = 0.02 + 0.05 * rnd();
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++)
      for (let c = 0; c < 3; c++) out[(y * n + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(127.5 + 80 * Math.sin(fx * x * (c + 1) + fy * y) + 30 * (rnd() - 0.5))));
  return out;
}

async function main(): Promise<void> {
  const { tf, st, nsfwjs } = await loadTfjs(THREADS);
  setNumThreads(THREADS);
  await tf.setBackend('simdtensor');
  const m = await nsfwjs.load('MobileNetV2');
  const bytes = layersToOnnx(m.model); // from the model's own (unfolded) layers
  console.log(`optimizeLayersModel: ${JSON.stringify(st.optimizeLayersModel(m.model))}; ONNX graph ${(bytes.length / 1e6).toFixed(1)} MB`);
  if (SAVE) writeFileSync(SAVE, bytes);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const ours = loadOnnx(bytes);
  const summary: Record<string, Record<number, { cpu: number; wall: number }>> = {};
  for (const batch of BATCHES) {
    const data = new Float32Array(batch * 224 * 224 * 3);
    for (let b = 0; b < batch; b++) data.set(image((b % IMAGES) + 1), b * 224 * 224 * 3);
    const dims = [batch, 224, 224, 3];
    const x = tf.tensor4d(data, dims);
    const feeds = { input: new ort.Tensor('float32', data, dims) };
    const runners: Record<string, () => Promise<ArrayLike<number>>> = {
      'tfjs simdtensor+fold': async () => {
        const y = tf.tidy(() => m.model.predict(x.div(255)));
        const v = y.dataSync() as Float32Array;
        y.dispose();
        return v;
      },
      onnxruntime: async () => (await session.run(feeds)).probs.data as Float32Array,
      'simdtensor loadOnnx': async () => ours.run({ input: { data, dims } }).probs.data as Float32Array,
    };
    const names = Object.keys(runners);
    const outs: Record<string, ArrayLike<number>> = {};
    for (const k of names) outs[k] = Array.from(await runners[k]()); // warm-up, and the outputs to compare
    const ref = outs.onnxruntime;
    const diffs = names.map((k) => `${k} ${maxDiff(outs[k], ref).abs.toExponential(1)}`);
    const ok = names.every((k) => maxDiff(outs[k], ref).abs <= 1e-4);
    console.log(`batch ${batch}: max |Δp| vs onnxruntime: ${diffs.join(', ')} (limit 1e-4): ${ok ? 'PASS' : 'FAIL'}`);
    if (!ok) process.exitCode = 1;
    for (const k of names) await runners[k](); // a second warm-up round
    const cpu: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
    const wall: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
    for (let r = 0; r < REPS; r++)
      for (const k of names) {
        if (THREADS > 1) await new Promise((res) => setTimeout(res, 10)); // let the other pool's threads stop spinning
        const c0 = process.cpuUsage(), t0 = performance.now();
        await runners[k]();
        wall[k].push(performance.now() - t0);
        cpu[k].push(cpuMs(process.cpuUsage(c0)));
      }
    const ortCpu = median(cpu.onnxruntime), ortWall = median(wall.onnxruntime);
    for (const k of names) (summary[k] ??= {})[batch] = { cpu: median(cpu[k]), wall: median(wall[k]) };
    console.log(
      `batch ${batch}, ${THREADS} thread(s), medians of ${REPS}: ` +
        names.map((k) => `${k} ${median(cpu[k]).toFixed(1)} ms CPU / ${median(wall[k]).toFixed(1)} ms wall (${(median(cpu[k]) / ortCpu).toFixed(2)}× / ${(median(wall[k]) / ortWall).toFixed(2)}× onnxruntime)`).join('; '),
    );
    x.dispose();
  }
  await session.release();
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ threads: THREADS, reps: REPS, medians: summary }, null, 2));
}

await main();
