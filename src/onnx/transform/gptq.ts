/**
 * Error-compensating rounding of int8 weights (the GPTQ idea: Frantar et al., 2022) for `quantizeModel`'s
 * `roundingSamples`: each output channel's weights are rounded one input at a time, and the rounding error of each
 * is spread over the inputs not yet rounded in proportion to how the layer's inputs co-vary (H = Σ x·xᵀ over the
 * sample activations), so the channel's output error over those inputs — not each weight's own error — is what is
 * kept small. The scales and zero points stay those of plain rounding; only which integer each weight takes changes,
 * so the file holds the same standard operators.
 * @module
 */
import { Tensor } from '../../tensor.js';
import { matmul } from '../../ops/matmul.js';

/** Σ x·xᵀ of the K-vectors a layer reads, accumulated over samples (float64). */
export class SecondMoments {
  readonly k: number;
  readonly h: Float64Array;
  count = 0;
  constructor(k: number) {
    this.k = k;
    this.h = new Float64Array(k * k);
  }
  /** Adds K-vectors stored as columns of x [K, P] (NCHW conv input planes: one column per pixel). */
  addColumns(x: Float32Array, p: number): void {
    if (p === 0) return;
    const t = new Tensor(x, [this.k, p], 'float32', x.length);
    const g = matmul(t, t, { transB: true }).data as Float32Array;
    for (let i = 0; i < g.length; i++) this.h[i] += g[i];
    this.count += p;
  }
  /** Adds K-vectors stored as rows of x [R, K] (a MatMul input). */
  addRows(x: Float32Array, r: number): void {
    const k = this.k, xt = new Float32Array(x.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) xt[j * r + i] = x[i * k + j];
    this.addColumns(xt, r);
  }
}

/** H + λI with λ = 1 % of the mean diagonal (positive definite even when some inputs never vary). */
function damped(m: SecondMoments): Float64Array {
  const k = m.k, A = new Float64Array(k * k);
  let tr = 0;
  for (let i = 0; i < k; i++) tr += m.h[i * k + i];
  const damp = Math.max(1e-12, (0.01 * tr) / k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) A[i * k + j] = m.h[i * k + j] + (i === j ? damp : 0);
  return A;
}

/**
 * The upper Cholesky factor U of (H + λI)⁻¹ (λ = 1 % of the mean diagonal, which keeps it positive definite when
 * some inputs never vary): row j of U gives how rounding input j's weight moves the inputs after it.
 */
function inverseFactor(m: SecondMoments): Float64Array {
  const k = m.k, A = damped(m);
  // A = L·Lᵀ, then A⁻¹ = L⁻ᵀ·L⁻¹, then A⁻¹ = Uᵀ·U.
  const L = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      let s = A[i * k + j];
      for (let t = 0; t < j; t++) s -= L[i * k + t] * L[j * k + t];
      L[i * k + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * k + j];
    }
  const Li = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    Li[i * k + i] = 1 / L[i * k + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let t = j; t < i; t++) s += L[i * k + t] * Li[t * k + j];
      Li[i * k + j] = -s / L[i * k + i];
    }
  }
  const Ai = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = i; j < k; j++) {
      let s = 0;
      for (let t = j; t < k; t++) s += Li[t * k + i] * Li[t * k + j];
      Ai[i * k + j] = Ai[j * k + i] = s;
    }
  const U = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    let s = Ai[i * k + i];
    for (let t = 0; t < i; t++) s -= U[t * k + i] * U[t * k + i];
    U[i * k + i] = Math.sqrt(Math.max(s, 1e-300));
    for (let j = i + 1; j < k; j++) {
      let v = Ai[i * k + j];
      for (let t = 0; t < i; t++) v -= U[t * k + i] * U[t * k + j];
      U[i * k + j] = v / U[i * k + i];
    }
  }
  return U;
}

/**
 * Index of weight (o, j)'s scale: one scale, one per row, or (`group` > 0) one per row and run of `group` inputs
 * (scale [ch, ⌈k / group⌉], ggml Q8_0-style blocks along the reduction).
 */
function scaleIndex(n: number, o: number, j: number, k: number, group: number): number {
  if (n === 1) return 0;
  return group > 0 ? o * Math.ceil(k / group) + Math.floor(j / group) : o;
}

/**
 * Rounds weight rows [ch, k] (one per output channel, with its scale and zero point) to integers in [qlo, qhi],
 * compensating each rounding error on the inputs after it. Zero weights (pruning) keep the zero point, so a
 * pruned model stays as sparse. `group` > 0: `scale` holds one value per row and block of `group` inputs (zero
 * point per row). Returns the integers (zero point included).
 */
export function gptqRound(rows: Float32Array, ch: number, m: SecondMoments, scale: Float32Array, zp: ArrayLike<number>, qlo: number, qhi: number, rne: (x: number) => number, group = 0): Int32Array {
  const k = m.k;
  const U = inverseFactor(m);
  const q = new Int32Array(ch * k);
  const w = new Float64Array(k);
  for (let o = 0; o < ch; o++) {
    const z = zp[zp.length === 1 ? 0 : o];
    for (let j = 0; j < k; j++) w[j] = rows[o * k + j];
    for (let j = 0; j < k; j++) {
      const s = scale[scaleIndex(scale.length, o, j, k, group)];
      // A weight that is exactly zero (pruned) stays zero; its share of the error moves on like any other.
      const qj = rows[o * k + j] === 0 ? z : Math.min(qhi, Math.max(qlo, rne(w[j] / s) + z));
      q[o * k + j] = qj;
      const err = (w[j] - (qj - z) * s) / U[j * k + j];
      for (let t = j + 1; t < k; t++) w[t] -= err * U[j * k + t];
    }
  }
  return q;
}

/**
 * Local search on rounded weights q (from {@link gptqRound} or plain rounding; same scale layout): each row's
 * output error over the sample inputs, (w − ŵ)ᵀ(H + λI)(w − ŵ), is lowered by moving one integer at a time by ±1
 * while that lowers it (at most `sweeps` passes per row) — the layer-wise reconstruction objective of AdaRound,
 * searched directly over integers instead of through a relaxed rounding. Zero weights stay at the zero point.
 * Returns the number of moves; q is updated in place.
 */
export function refineRounding(rows: Float32Array, ch: number, m: SecondMoments, scale: Float32Array, zp: ArrayLike<number>, qlo: number, qhi: number, q: Int32Array, group = 0, sweeps = 8): number {
  const k = m.k, A = damped(m);
  const e = new Float64Array(k), g = new Float64Array(k), s = new Float64Array(k);
  let moves = 0;
  for (let o = 0; o < ch; o++) {
    const z = zp[zp.length === 1 ? 0 : o];
    for (let j = 0; j < k; j++) {
      s[j] = scale[scaleIndex(scale.length, o, j, k, group)];
      e[j] = rows[o * k + j] - (q[o * k + j] - z) * s[j];
    }
    for (let i = 0; i < k; i++) {
      let v = 0;
      for (let j = 0; j < k; j++) v += A[i * k + j] * e[j];
      g[i] = v;
    }
    for (let pass = 0; pass < sweeps; pass++) {
      let moved = 0;
      for (let j = 0; j < k; j++) {
        if (rows[o * k + j] === 0) continue;
        const qj = q[o * k + j];
        // Moving q_j by d changes the error by −d·s_j: the objective by −2·d·s_j·g_j + (d·s_j)²·A_jj.
        const up = qj < qhi ? -2 * s[j] * g[j] + s[j] * s[j] * A[j * k + j] : Infinity;
        const down = qj > qlo ? 2 * s[j] * g[j] + s[j] * s[j] * A[j * k + j] : Infinity;
        const d = up < down ? 1 : -1;
        if (Math.min(up, down) >= -1e-12 * Math.abs(g[j] * s[j])) continue;
        q[o * k + j] = qj + d;
        const step = d * s[j];
        e[j] -= step;
        for (let t = 0; t < k; t++) g[t] -= step * A[t * k + j];
        moved++;
      }
      moves += moved;
      if (moved === 0) break;
    }
  }
  return moves;
}
