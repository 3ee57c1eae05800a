/**
 * TF.js BatchMatMul and _FusedMatMul on our GEMM (transposeA: A transposed natively first). One right-hand matrix for every batch (a Dense layer's weight) is
 * packed once per data id: relu / none epilogues run the GEMM on packed panels (its small-M path streams each
 * panel once), the other fused activations a 1×1 convolution over the same rows (the conv epilogue has relu6,
 * leaky relu and sigmoid). Batched right-hand sides run one GEMM per batch with TF.js broadcasting of batch dims.
 * @module
 */
import { linear, matmul, packWeights } from '../ops/matmul.js';
import { native } from '../native.js';
import { conv2d, packConvWeights } from '../conv/conv2d.js';
import { stateOf } from './weights.js';
import { biasVector, fusedActivation } from './conv.js';
import { allocOut, releaseScratch } from './buffers.js';
import { allFinite, int8MatmulWeights, int8On } from './int8.js';
import { f32Data, output, sizeOf, view } from './types.js';
import type { NativeKernel, TfCore } from './types.js';

/** Flat index into a batch of `shape` (right-aligned, size-1 dims broadcast) for output batch multi-index `idx`. */
function batchIndex(shape: readonly number[], idx: readonly number[]): number {
  let i = 0;
  const off = idx.length - shape.length;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + (shape[d] === 1 ? 0 : idx[d + off]);
  return i;
}

/** Below this many multiply-adds (default) the CPU kernel runs the product. */
export const MIN_MATMUL_MACS = 1024;

function matmulKernel(tf: TfCore, fused: boolean, minMacs: number): NativeKernel {
  return (args) => {
    const { a, b, bias } = args.inputs;
    const at = args.attrs ?? {};
    if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
    const ra = a.shape.length, rb = b.shape.length;
    if (ra < 2 || rb < 2) return null;
    const ta = !!at.transposeA, tb = !!at.transposeB;
    const m = a.shape[ra - (ta ? 1 : 2)], k = a.shape[ra - (ta ? 2 : 1)];
    const bk = tb ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
    // Tiny products (a 4×4 matmul is 64 multiply-adds) cost less in the CPU kernel's JS loop than the N-API call and
    // our argument checks (4×4 + dataSync, under load: ~10 µs native vs ~2.5 µs on the CPU kernel). Decided from the
    // shapes alone, before any data lookup: this is the whole cost of our kernel on such calls.
    if (bk !== k || k === 0 || sizeOf(a.shape) * n < minMacs) return null;
    let A = f32Data(args.backend, a);
    const B = f32Data(args.backend, b);
    if (!A || !B) return null;
    const batchA = a!.shape.slice(0, -2), batchB = b!.shape.slice(0, -2);
    let outBatch: number[];
    try {
      outBatch = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
    } catch {
      return null; // the CPU kernel raises TF.js's own error
    }
    const outShape = [...outBatch, m, n];
    const size = sizeOf(outShape);
    if (size === 0) return null;
    const act = fused ? fusedActivation(at.activation, at.leakyreluAlpha) : 'none';
    if (act === null) return null;
    const bv = fused ? biasVector(args, bias, n, true) : null;
    if (bv === undefined) return null;
    const gemmAct = act === 'none' ? undefined : act === 'relu' ? 'relu' : null;
    const sa = sizeOf(batchA), sb = sizeOf(batchB), so = sizeOf(outBatch);
    if (gemmAct === null && !(sb === 1 && sa === so)) return null;
    let scratch: Float32Array | null = null;
    if (ta && A.length > 0) {
      // Aᵀ per batch (the weight gradient xᵀ·dy of a Dense layer): one native transpose, then the plain GEMM.
      scratch = allocOut(A.length);
      native.transposeBatched(A, scratch, Int32Array.from([A.length / (m * k), k, m]));
      A = scratch;
    }
    const out = allocOut(size);
    const weights = stateOf(args.backend).weights;
    if (sb === 1 && sa === so) {
      // One matrix B for all sa·m rows of A.
      const rows = sa * m;
      const q = int8On() && !ta && gemmAct !== null ? weights.get(b!.dataId, tb ? 'gemm:nk:s8' : 'gemm:kn:s8', () => int8MatmulWeights(B, k, n, tb)) : false;
      if (q && allFinite(A)) {
        // int8 mode: per-column int8 weights, rows of A quantized per call (linear's dynamic path; a NaN or
        // ±Infinity in A leaves the product to float32, where TF.js's answer comes from).
        linear(view(A, [rows, k]), q, bv, { activation: gemmAct ?? undefined, out: view(out, [rows, n]) });
      } else if (gemmAct !== null) {
        const packed = weights.get(b!.dataId, tb ? 'gemm:nk' : 'gemm:kn', () => packWeights(view(B, tb ? [n, k] : [k, n]), { layout: tb ? 'linear' : 'kn' }));
        matmul(view(A, [rows, k]), packed, { bias: bv, activation: gemmAct, out: view(out, [rows, n]) });
      } else {
        const packed = weights.get(b!.dataId, tb ? 'conv2d:oihw' : 'conv2d:hwio', () =>
          packConvWeights(view(B, tb ? [n, k, 1, 1] : [1, 1, k, n]), { weightLayout: tb ? 'oihw' : 'hwio' }),
        );
        conv2d(view(A, [1, 1, rows, k]), packed, { layout: 'nhwc', bias: bv, activation: act, out: view(out, [1, 1, rows, n]) });
      }
      if (scratch) releaseScratch(scratch);
      return output(args.backend, outShape, out);
    }
    const idx = new Array<number>(outBatch.length).fill(0);
    for (let o = 0; o < so; o++) {
      const ia = batchIndex(batchA, idx), ib = batchIndex(batchB, idx);
      matmul(view(A.subarray(ia * m * k, (ia + 1) * m * k), [m, k]), view(B.subarray(ib * k * n, (ib + 1) * k * n), tb ? [n, k] : [k, n]), {
        transB: tb,
        bias: bv,
        activation: gemmAct ?? undefined, // never null here (checked above)
        out: view(out.subarray(o * m * n, (o + 1) * m * n), [m, n]),
      });
      for (let d = idx.length - 1; d >= 0 && ++idx[d] === outBatch[d]; d--) idx[d] = 0;
    }
    if (scratch) releaseScratch(scratch);
    return output(args.backend, outShape, out);
  };
}

/** BatchMatMul and _FusedMatMul. */
export function matmulKernels(tf: TfCore, minMacs = MIN_MATMUL_MACS): Record<string, NativeKernel> {
  return { BatchMatMul: matmulKernel(tf, false, minMacs), _FusedMatMul: matmulKernel(tf, true, minMacs) };
}
