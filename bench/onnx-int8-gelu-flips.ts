/**
 * How far the dynamically quantized BERT-style encoder's requantized FFN 1 activations are from onnxruntime's: the
 * GELU output that DynamicQuantizeLinear turns into FFN 2's u8 input is exposed as a graph output in both runtimes
 * and quantized here by DynamicQuantizeLinear's definition (each runtime's values with their own range; the
 * division x / scale, ties to even), and the u8 values are compared position by position — how many differ,
 * by how many steps, and how the encoder's output then differs — next to the int8 model's own error against the
 * float32 model (same weights, onnxruntime). Which erf the int8 GEMM's GELU epilogue uses is a build choice, so run
 * it once per addon. Run: `npm run build:ts && node dist/bench/onnx-int8-gelu-flips.js [--batch 1,8]`.
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadOnnx, setNumThreads } from '../src/index.js';
import { bertFeeds, bertModel, dynamicQuantizeRef, exposeQuantizedGelu, maxDiff, ortRun } from './onnx-models.js';

const BATCHES = (process.argv.includes('--batch') ? process.argv[process.argv.indexOf('--batch') + 1] : '1,8').split(',').map(Number);
/** `--pad a,b`: bertFeeds' padding (default 8,16 as the trials; 8,1000 pads the last 8 positions, as the test). */
const PAD = (process.argv.includes('--pad') ? process.argv[process.argv.indexOf('--pad') + 1] : '8,16').split(',').map(Number) as [number, number];
/** `--save <file>`: our u8 activations are compared with that file's (another build's) if it exists, else written to it. */
const SAVE = process.argv.includes('--save') ? process.argv[process.argv.indexOf('--save') + 1] : '';
const opts = { layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14 } as const;

async function main() {
  setNumThreads(1);
  const { bytes, taps } = exposeQuantizedGelu(bertModel({ ...opts, int8: true }));
  const model = loadOnnx(bytes);
  const fused = model.nodeCounts.Erf === undefined && model.nodeCounts.Int8Linear === 8 && model.nodeCounts.DynamicQuantize === 8;
  console.log(`FFN 1 GELU outputs exposed: ${taps.length}; GELU still in the Int8Linear epilogue: ${fused} (${JSON.stringify(model.nodeCounts)})`);
  const f32 = bertModel({ ...opts });
  const saved: Record<string, number[]> = SAVE && existsSync(SAVE) ? JSON.parse(readFileSync(SAVE, 'utf8')) : {};
  const toSave: Record<string, number[]> = {};
  for (const batch of BATCHES) {
    const feeds = bertFeeds(batch, 128, opts.vocab, PAD);
    const got = model.run(feeds.ours as never);
    const ref = await ortRun(bytes, feeds.ort);
    const refF = await ortRun(f32, feeds.ort);
    for (const gelu of taps) {
      const q = `${gelu}.q`;
      const qa = dynamicQuantizeRef(got[gelu].data as Float32Array), qb = dynamicQuantizeRef(ref[gelu].data as ArrayLike<number>);
      const a = qa.q, b = qb.q;
      const hist = new Map<number, number>();
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) hist.set(a[i] - b[i], (hist.get(a[i] - b[i]) ?? 0) + 1);
      const off = [...hist.values()].reduce((x, y) => x + y, 0);
      const key = `b${batch} ${q}`, old = saved[key];
      toSave[key] = Array.from(a);
      if (old) {
        const h2 = new Map<number, number>();
        for (let i = 0; i < a.length; i++) if (a[i] !== old[i]) h2.set(a[i] - old[i], (h2.get(a[i] - old[i]) ?? 0) + 1);
        console.log(`${key}: this build vs ${SAVE}: u8 differing ${[...h2.values()].reduce((x, y) => x + y, 0)} of ${a.length}, by ${JSON.stringify(Object.fromEntries(h2))}`);
      }
      const dg = maxDiff(got[gelu].data as Float32Array, ref[gelu].data);
      const ss = [qa.s, qb.s], zz = [qa.z, qb.z];
      console.log(`b${batch} ${gelu}: GELU f32 max |diff| ${dg.abs.toExponential(2)} (|ref| ≤ ${dg.ref.toFixed(2)}); ` +
        `scale ${ss[0] === ss[1] ? 'equal' : ss.join(' vs ')}, zero point ${zz[0] === zz[1] ? 'equal' : zz.join(' vs ')}; ` +
        `u8 differing ${off} of ${a.length} (${((100 * off) / a.length).toFixed(4)} %), by ${JSON.stringify(Object.fromEntries(hist))}`);
    }
    const d = maxDiff(got.last_hidden_state.data as Float32Array, ref.last_hidden_state.data);
    const own = maxDiff(ref.last_hidden_state.data as Float32Array, refF.last_hidden_state.data);
    console.log(`b${batch} output: ours vs onnxruntime (int8) max |diff| ${d.abs.toExponential(2)} (|ref| ≤ ${d.ref.toFixed(2)}); ` +
      `onnxruntime int8 vs its f32 model ${own.abs.toExponential(2)}: ratio ${(d.abs / own.abs).toFixed(4)}`);
  }
  if (SAVE && !existsSync(SAVE)) writeFileSync(SAVE, JSON.stringify(toSave));
}

void main();
