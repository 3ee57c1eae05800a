/**
 * The fused self-attention node (domain 'simdtensor') of the `attention-fusion` pass: softmax(scale·Q·Kᵀ + mask)·V
 * per (batch, head) in one native call (native/runtime/f32/attention_driver.h) that reads Q, K and V strided where
 * the projections wrote them and writes the context as [batch, seq, heads, dv] — the layout the exported graph's
 * final Transpose produced, so the Reshape after it stays a view.
 *
 * Inputs [q, k, v, mask?]. Either q/k/v are 4-D [batch, seq, heads, d] (the Reshape outputs), or — after the
 * `qkv-fusion` pass — 3-D [batch, seq, width] rows of one merged projection, with attrs `heads`, `dk`, `dv` and the
 * column offsets `qOffset`/`kOffset`/`vOffset`. The mask is any float32 value that broadcasts to the scores
 * [batch, heads, seqQ, seqK] without growing them; attrs.scale multiplies Q·Kᵀ before the mask (default 1). In the
 * merged form input 4 is the target of the Reshapes it replaced, checked against [batch, seq, heads, dk] each run.
 * @module
 */
import { native, nativeOnly } from '../../native.js';
import { rangeError, typeError } from '../../errors.js';
import { attrFloat, attrInt, type Node } from '../graph.js';
import { bstrides, ints, outOr, type Value } from '../value.js';
import { keepCall, registerOnnxOp } from './registry.js';

/** [offset, batch, row, head] strides of one operand, its batch and rows, and its head width. */
function operand(n: Node, v: Value | undefined, arg: string, packed: boolean, heads: number, width: number, offset: number) {
  if (!v || v.dtype !== 'float32') throw typeError('Attention', `node '${n.name}': ${arg} must be float32, got ${v ? v.dtype : 'nothing'}`);
  const s = v.shape;
  if (packed) {
    if (s.length !== 3 || offset + heads * width > s[2]) throw rangeError('Attention', `node '${n.name}': ${arg} [${s.join(', ')}] must be [batch, seq, >= ${offset + heads * width}]`);
    return { batch: s[0], rows: s[1], d: width, st: [offset, s[1] * s[2], s[2], width] };
  }
  if (s.length !== 4 || s[2] !== heads) throw rangeError('Attention', `node '${n.name}': ${arg} [${s.join(', ')}] must be [batch, seq, ${heads}, d]`);
  return { batch: s[0], rows: s[1], d: s[3], st: [0, s[1] * s[2] * s[3], s[2] * s[3], s[3]] };
}

function attentionRun(n: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]): Value[] {
  const packed = ins[0]?.shape.length === 3;
  const heads = packed ? attrInt(n, 'heads', 0) : ins[0]?.shape[2] ?? 0;
  const q = operand(n, ins[0], 'q', packed, heads, attrInt(n, 'dk', 0), attrInt(n, 'qOffset', 0));
  const k = operand(n, ins[1], 'k', packed, heads, attrInt(n, 'dk', 0), attrInt(n, 'kOffset', 0));
  const v = operand(n, ins[2], 'v', packed, heads, attrInt(n, 'dv', 0), attrInt(n, 'vOffset', 0));
  if (q.batch !== k.batch || q.batch !== v.batch || k.rows !== v.rows || q.d !== k.d)
    throw rangeError('Attention', `node '${n.name}': q [${ins[0]!.shape.join(', ')}], k [${ins[1]!.shape.join(', ')}] and v [${ins[2]!.shape.join(', ')}] do not agree on batch, keys or head width`);
  const [b, sq, sk, dk, dv] = [q.batch, q.rows, k.rows, q.d, v.d];
  if (packed && ins[4]) {
    // The Reshape the qkv-fusion pass replaced must have split each [batch, seq, heads·d] row into [batch, seq, heads, d].
    const req = ints(ins[4]);
    const dims = req.map((d, i) => (d === 0 ? [b, sq, heads * dk][i] : d));
    const neg = dims.indexOf(-1);
    if (neg >= 0 && dims.indexOf(-1, neg + 1) < 0) dims[neg] = (b * sq * heads * dk) / dims.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    if (dims.length !== 4 || dims[0] !== b || dims[1] !== sq || dims[2] !== heads || dims[3] !== dk)
      throw rangeError('Attention', `node '${n.name}': the merged Q/K/V projection was reshaped to [${req.join(', ')}], not [${b}, ${sq}, ${heads}, ${dk}]`);
  }
  const out = outOr(outs[0], 'float32', [b, sq, heads, dv]);
  const m = ins[3];
  let ms = [0, 0, 0, 0];
  if (m) {
    const scores = [b, heads, sq, sk];
    if (m.dtype !== 'float32') throw typeError('Attention', `node '${n.name}': mask must be float32, got ${m.dtype}`);
    if (m.shape.length > 4 || m.shape.some((d, i) => d !== 1 && d !== scores[4 - m.shape.length + i]))
      throw rangeError('Attention', `node '${n.name}': mask [${m.shape.join(', ')}] does not broadcast to the scores [${scores.join(', ')}]`);
    ms = bstrides(m.shape, scores);
  }
  const geom = Int32Array.from([b, heads, sq, sk, dk, dv, ...q.st, ...k.st, ...v.st, sq * heads * dv, heads * dv, dv, ...ms]);
  const Q = ins[0]!.data as Float32Array, K = ins[1]!.data as Float32Array, V = ins[2]!.data as Float32Array;
  const M = m ? (m.data as Float32Array) : null, O = out.data as Float32Array, scale = attrFloat(n, 'scale', 1);
  const call = nativeOnly(() => native.onnxAttention(Q, K, V, M, O, geom, scale));
  call();
  keepCall(n, ins, outs, out, call); // the geometry block and the checks cost ~40 µs a call: a planned run skips them
  return [out];
}

registerOnnxOp('Attention', { run: attentionRun }, 'simdtensor');
