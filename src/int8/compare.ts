/**
 * {@link compareOutputs}: the numbers to check before shipping a quantized model (reference vs test outputs).
 * @module
 */
import { rangeError, typeError } from '../errors.js';
import { checkTensor, Tensor } from '../tensor.js';
import { QuantizedTensor } from './tensor.js';
import { dequantize } from './quantize.js';

/** What {@link compareOutputs} reports. */
export interface OutputComparison {
  /** Elements compared. */
  count: number;
  /** max |test − ref|. */
  maxAbsError: number;
  /** max |test − ref| / max(|ref|, 1e-6 · max|ref|) (the floor keeps near-zero references from dominating). */
  maxRelError: number;
  /** mean |test − ref|. */
  meanAbsError: number;
  /** mean (test − ref): a systematic bias. */
  meanError: number;
  /** sqrt(mean (test − ref)²). */
  rmse: number;
  /** cos∠(ref, test) over all elements (1 when identical; NaN when either is all zeros). */
  cosineSimilarity: number;
  /** Fraction of rows (last dimension = classes) whose argmax agrees: the logits check. Null for 0-D data. */
  top1Agreement: number | null;
  /** Elements where exactly one side is NaN (or ±Infinity differs). */
  mismatchedNonFinite: number;
}

/**
 * Compares a reference output with a test output (e.g. float32 vs int8 model logits): max abs/rel error, mean
 * error, RMSE, cosine similarity and top-1 agreement over rows of the last dimension. QuantizedTensors are
 * dequantized first. Shapes must have the same number of elements; NaN/Infinity pairs are counted, not summed.
 */
export function compareOutputs(ref: Tensor | QuantizedTensor, test: Tensor | QuantizedTensor): OutputComparison {
  const fn = 'compareOutputs';
  const r = ref instanceof QuantizedTensor ? dequantize(ref) : ref;
  const t = test instanceof QuantizedTensor ? dequantize(test) : test;
  checkTensor(fn, 'ref', r);
  checkTensor(fn, 'test', t);
  for (const [name, x] of [['ref', r], ['test', t]] as const)
    if (x.dtype === 'float16' || x.dtype === 'bfloat16') throw typeError(fn, `${name}.dtype ${x.dtype} must be cast to float32 first (t.to('float32'))`);
  if (r.size !== t.size) throw rangeError(fn, `ref has ${r.size} elements ([${r.shape.join(', ')}]), test has ${t.size} ([${t.shape.join(', ')}])`);
  const a = r.data as ArrayLike<number>, b = t.data as ArrayLike<number>;
  const n = r.size;
  let maxRef = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(a[i])) maxRef = Math.max(maxRef, Math.abs(a[i]));
  const floor = Math.max(1e-6 * maxRef, Number.MIN_VALUE);
  let maxAbs = 0, maxRel = 0, sumAbs = 0, sum = 0, sumSq = 0, dot = 0, na = 0, nb = 0, bad = 0, used = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i], y = b[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) bad++;
      continue;
    }
    const d = y - x, ad = Math.abs(d);
    used++;
    if (ad > maxAbs) maxAbs = ad;
    const rel = ad / Math.max(Math.abs(x), floor);
    if (rel > maxRel) maxRel = rel;
    sumAbs += ad;
    sum += d;
    sumSq += d * d;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  let top1: number | null = null;
  if (r.ndim >= 1 && n > 0) {
    const cls = r.shape[r.ndim - 1];
    const rows = cls > 0 ? n / cls : 0;
    let agree = 0;
    for (let row = 0; row < rows; row++) {
      let ia = 0, ib = 0;
      for (let j = 1; j < cls; j++) {
        if (a[row * cls + j] > a[row * cls + ia]) ia = j;
        if (b[row * cls + j] > b[row * cls + ib]) ib = j;
      }
      if (ia === ib) agree++;
    }
    top1 = rows > 0 ? agree / rows : null;
  }
  return {
    count: n,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
    meanAbsError: used ? sumAbs / used : 0,
    meanError: used ? sum / used : 0,
    rmse: used ? Math.sqrt(sumSq / used) : 0,
    cosineSimilarity: na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : NaN,
    top1Agreement: top1,
    mismatchedNonFinite: bad,
  };
}
