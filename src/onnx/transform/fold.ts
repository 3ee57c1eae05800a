/**
 * BatchNormalization folded into the Conv before it, on the file: W' = W·γ/√(var+ε) per output channel,
 * b' = (b − mean)·γ/√(var+ε) + β. Quantizing the folded weight matters: quantized before a BatchNormalization
 * that subtracts a large mean, a Conv's small relative weight error becomes a large error after it (this is the
 * pre-processing onnxruntime's quantizer expects too).
 * @module
 */
import { attrF } from './proto.js';
import type { EditModel, Msg } from './proto.js';

/** Folds every Conv → BatchNormalization pair whose weights and statistics are constants; returns the count. */
export function foldBatchNorm(m: EditModel): number {
  let count = 0;
  const drop = new Set<Msg>();
  const producer = new Map<string, Msg>();
  for (const n of m.nodes) for (const o of n.output) producer.set(o, n);
  for (const bn of m.nodes) {
    if (bn.opType !== 'BatchNormalization' || (bn.domain ?? '') !== '' || bn.output.filter((o: string) => o).length !== 1) continue;
    const conv = producer.get(bn.input[0]);
    if (!conv || conv.opType !== 'Conv' || (conv.domain ?? '') !== '' || m.readers(conv.output[0]) !== 1) continue;
    const w = m.constValue(conv.input[1]);
    const b = conv.input[2] ? m.constValue(conv.input[2]) : undefined;
    const [g, beta, mean, v] = [1, 2, 3, 4].map((i) => m.constValue(bn.input[i]));
    if (!w || w.dtype !== 'float32' || (conv.input[2] && !b) || !g || !beta || !mean || !v) continue;
    const ch = w.shape[0];
    if ([g, beta, mean, v].some((t) => t.size !== ch || t.dtype !== 'float32') || (b && b.size !== ch)) continue;
    if (m.readers(conv.input[1]) !== 1) continue; // a shared weight would change for its other reader
    const eps = attrF(bn, 'epsilon', 1e-5);
    const inner = w.size / ch;
    const W = new Float32Array(w.size), B = new Float32Array(ch);
    for (let c = 0; c < ch; c++) {
      const s = g.data[c] / Math.sqrt(v.data[c] + eps);
      for (let i = 0; i < inner; i++) W[c * inner + i] = w.data[c * inner + i] * s;
      B[c] = ((b ? b.data[c] : 0) - mean.data[c]) * s + beta.data[c];
    }
    const wn = m.addInit(`${conv.input[1]}_bnfolded`, { dtype: 'float32', shape: w.shape.slice(), data: W, size: W.length });
    const bnm = m.addInit(`${conv.output[0]}_bnfolded_bias`, { dtype: 'float32', shape: [ch], data: B, size: ch });
    conv.input = [conv.input[0], wn, bnm];
    conv.output = [bn.output[0]];
    drop.add(bn);
    count++;
  }
  m.graph.node = m.nodes.filter((n) => !drop.has(n));
  if (count) m.pruneInits();
  return count;
}
