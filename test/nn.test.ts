// Layers, losses, optimizers and the training loop: gradients against central finite differences, optimizer
// updates against plain formulas, determinism, and error messages.
import { describe, expect, it } from 'vitest';
import { cpuInfo, getMaxIsa, rand, setMaxIsa, tensor, Tensor } from '../src/index.js';
import {
  AdamW, argmax, crossEntropy, distillationLoss, Dropout, evaluate, fit, GELU, Layer, LayerNorm, Linear, mlp,
  Normalize, Parameter, permutation, ReLU, schedules, Sequential, SGD, softTargets, transpose,
} from '../src/nn/index.js';
import { arrayDiff, expectSameArray } from './helpers.js';

// Finite differences in float32: the forward runs in f32, so the step must be large enough that the rounding
// of the loss (relative ~1e-7 of a sum of O(10)) stays well below the difference (h·grad).
const FD_STEP = 1e-2;
const FD_ABS_TOL = 2e-3;
const FD_REL_TOL = 2e-2;

/** Σ out ⊙ r in double: a scalar loss whose gradient with respect to out is r. */
function dot(out: Tensor, r: Float32Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += out.data[i] * r[i];
  return s;
}

function checkGrad(name: string, values: Float32Array, analytic: Float32Array, loss: () => number, maxChecks = 40): void {
  const stride = Math.max(1, Math.floor(values.length / maxChecks));
  for (let i = 0; i < values.length; i += stride) {
    const v = values[i];
    values[i] = v + FD_STEP;
    const up = loss();
    values[i] = v - FD_STEP;
    const down = loss();
    values[i] = v;
    const num = (up - down) / (2 * FD_STEP);
    const tol = FD_ABS_TOL + FD_REL_TOL * Math.abs(num);
    if (Math.abs(num - analytic[i]) > tol) throw new Error(`${name}[${i}]: analytic ${analytic[i]} vs numeric ${num}`);
  }
}

/** Checks d(Σ model(x) ⊙ r) with respect to x and every parameter. Inputs away from ReLU kinks by construction. */
function gradcheck(model: Layer, x: Tensor<'float32'>, seed: number): void {
  model.train(true);
  const y0 = model.forward(x);
  const r = rand(y0.shape, { seed }).data as Float32Array;
  const dx = model.backward(tensor(r, y0.shape), true)!;
  const analyticX = Float32Array.from(dx.data as Float32Array);
  const grads = model.parameters().map((p) => Float32Array.from(p.grad.data));
  const loss = () => dot(model.forward(x), r);
  checkGrad('dx', x.data, analyticX, loss);
  model.parameters().forEach((p, k) => checkGrad(`${p.name}`, p.value.data, grads[k], loss));
  model.train(false);
}

describe('layer gradients match finite differences', () => {
  it('Linear (dW = dYᵀ·X, db = 1ᵀ·dY, dX = dY·W)', () => {
    const l = new Linear(7, 5, { seed: 1 });
    l.bias!.value.data.set(rand([5], { seed: 2 }).data as Float32Array);
    gradcheck(l, rand([6, 7], { seed: 3 }) as Tensor<'float32'>, 4);
  });

  it('Linear without bias, one row, and wider than a vector', () => {
    gradcheck(new Linear(33, 17, { bias: false, seed: 5 }), rand([1, 33], { seed: 6 }) as Tensor<'float32'>, 7);
  });

  it('Linear + ReLU fused in training (backward from the output)', () => {
    const m = new Sequential([new Linear(6, 9, { seed: 8 }), new ReLU(), new Linear(9, 4, { seed: 9 })]);
    gradcheck(m, rand([5, 6], { seed: 10 }) as Tensor<'float32'>, 11);
  });

  it('Linear + GELU (unfused in training) and LayerNorm', () => {
    const m = new Sequential([new Linear(5, 12, { seed: 12 }), new LayerNorm(12), new GELU(), new Linear(12, 3, { seed: 13 })]);
    const ln = m.layers[1] as LayerNorm;
    ln.gamma.value.data.set(rand([12], { seed: 14, low: 0.5, high: 1.5 }).data as Float32Array);
    ln.beta.value.data.set(rand([12], { seed: 15 }).data as Float32Array);
    gradcheck(m, rand([4, 5], { seed: 16 }) as Tensor<'float32'>, 17);
  });

  it('standalone ReLU, GELU, LayerNorm and Normalize', () => {
    gradcheck(new GELU(), rand([3, 11], { seed: 18, low: -3, high: 3 }) as Tensor<'float32'>, 19);
    const x = rand([3, 11], { seed: 20, low: 0.05, high: 1 }) as Tensor<'float32'>;
    const signs = rand([3, 11], { seed: 21 }).data;
    for (let i = 0; i < x.size; i++) if (signs[i] < 0) x.data[i] = -x.data[i];
    gradcheck(new ReLU(), x, 22);
    gradcheck(new LayerNorm(11), rand([3, 11], { seed: 23, low: -2, high: 2 }) as Tensor<'float32'>, 24);
    const norm = new Normalize(rand([11], { seed: 25 }), rand([11], { seed: 26, low: 0.5, high: 2 }));
    gradcheck(norm, rand([2, 11], { seed: 27 }) as Tensor<'float32'>, 28);
  });

  it('a whole MLP through the cross-entropy loss', () => {
    const m = mlp([8, 16, 16, 4], { seed: 3, layerNorm: true, activation: 'gelu' }); // smooth: no kinks for the FD step to cross
    const x = rand([10, 8], { seed: 29 }) as Tensor<'float32'>;
    const y = Int32Array.from({ length: 10 }, (_, i) => i % 4);
    m.train(true);
    const { grad } = crossEntropy(m.forward(x) as Tensor<'float32'>, y);
    m.backward(grad!, false);
    const grads = m.parameters().map((p) => Float32Array.from(p.grad.data));
    const loss = () => crossEntropy(m.forward(x) as Tensor<'float32'>, y, { grad: false }).loss;
    m.parameters().forEach((p, k) => checkGrad(`mlp ${p.name}${k}`, p.value.data, grads[k], loss, 25));
  });
});

describe('losses', () => {
  const z = rand([6, 5], { seed: 30, low: -3, high: 3 }) as Tensor<'float32'>;
  const y = Int32Array.from([0, 4, 2, 2, 1, 3]);

  it('cross-entropy equals −mean log softmax[label], gradient by finite differences', () => {
    const { loss, grad } = crossEntropy(z, y);
    let ref = 0;
    for (let r = 0; r < 6; r++) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += Math.exp(z.data[r * 5 + c]);
      ref += Math.log(s) - z.data[r * 5 + y[r]];
    }
    expect(loss).toBeCloseTo(ref / 6, 5);
    checkGrad('ce', z.data, Float32Array.from(grad!.data), () => crossEntropy(z, y, { grad: false }).loss);
  });

  it('distillation loss = α·T²·KL + (1−α)·CE, gradient by finite differences', () => {
    const teacher = rand([6, 5], { seed: 31, low: -4, high: 4 }) as Tensor<'float32'>;
    const T = 3;
    const alpha = 0.6;
    const soft = softTargets(teacher, T);
    const res = distillationLoss(z, soft, y, { temperature: T, alpha });
    let kl = 0;
    for (let r = 0; r < 6; r++) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += Math.exp(z.data[r * 5 + c] / T);
      for (let c = 0; c < 5; c++) {
        const p = soft.data[r * 5 + c];
        const logq = z.data[r * 5 + c] / T - Math.log(s);
        kl += p * (Math.log(p) - logq);
      }
    }
    kl /= 6;
    expect(res.kl).toBeCloseTo(kl, 5);
    expect(res.ce).toBeCloseTo(crossEntropy(z, y, { grad: false }).loss, 5);
    expect(res.loss).toBeCloseTo(alpha * T * T * kl + (1 - alpha) * res.ce, 5);
    const g = Float32Array.from(res.grad!.data);
    checkGrad('kd', z.data, g, () => distillationLoss(z, soft, y, { temperature: T, alpha, grad: false }).loss);
    // Identical student and teacher: the KL term vanishes.
    expect(distillationLoss(teacher, soft, y, { temperature: T, alpha: 1 }).kl).toBeLessThan(1e-6);
  });

  it('rejects bad labels and options with messages naming them', () => {
    expect(() => crossEntropy(z, Int32Array.from([0, 1, 2, 3, 4, 5]))).toThrow(/labels\[5\] \(5\) is not a class in \[0, 5\)/);
    expect(() => crossEntropy(z, Int32Array.from([0, 1]))).toThrow(/labels has 2 entries, logits have 6 rows/);
    expect(() => crossEntropy(z, [0, 1, 2, 3, 4, 0] as unknown as Int32Array)).toThrow(TypeError);
    expect(() => distillationLoss(z, z, y, { temperature: 0 })).toThrow(/temperature must be a finite number > 0/);
    expect(() => distillationLoss(z, z, y, { alpha: 1.5 })).toThrow(/alpha must be a number in \[0, 1\]/);
  });
});

describe('kernels used by training', () => {
  it('transpose and argmax', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(transpose(x).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(Array.from(argmax(tensor([0, 3, 3, -1, 7, 2], [2, 3])))).toEqual([1, 1]);
  });

  it('dropout: training drops about p and scales by 1/(1−p); eval is the identity', () => {
    const d = new Dropout(0.25, { seed: 4 });
    const x = tensor(new Float32Array(10000).fill(1), [100, 100]);
    expect(d.forward(x)).toBe(x);
    d.train(true);
    const y = d.forward(x);
    let kept = 0;
    for (const v of y.data) {
      if (v !== 0) {
        kept++;
        expect(v).toBeCloseTo(1 / 0.75, 6);
      }
    }
    expect(Math.abs(kept / 10000 - 0.75)).toBeLessThan(0.02);
    const g = d.backward(x)!;
    expectSameArray(g.data, y.data);
    const y2 = d.forward(x);
    expect(arrayDiff(y2.data, y.data)).not.toBeNull();
  });
});

describe('training kernels under every ISA cap', () => {
  it('each variant this CPU runs gives the same losses, gradients and updates (within float tolerance)', () => {
    const isas = cpuInfo().supportedIsas.filter((i) => ['scalar', 'avx2', 'avx512', 'neon'].includes(i));
    const before = getMaxIsa();
    const z = rand([7, 10], { seed: 40, low: -4, high: 4 }) as Tensor<'float32'>;
    const y = Int32Array.from([0, 9, 3, 3, 5, 1, 2]);
    const runs: { isa: string; kernel: string; out: number[] }[] = [];
    try {
      for (const isa of isas) {
        setMaxIsa(isa as never);
        const m = mlp([10, 19, 10], { seed: 41, layerNorm: true, activation: 'gelu' });
        m.train(true);
        const { loss, grad } = crossEntropy(m.forward(z) as Tensor<'float32'>, y);
        m.backward(grad!, false);
        new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }).step(); // linear in the gradient (Adam's first step is its sign)
        runs.push({ isa, kernel: cpuInfo().kernels['train.softmaxXent'], out: [loss, ...m.parameters().flatMap((p) => Array.from(p.value.data))] });
      }
    } finally {
      setMaxIsa(before);
    }
    expect(new Set(runs.map((r) => r.kernel)).size).toBe(runs.length); // each cap ran its own variant
    for (const r of runs.slice(1))
      r.out.forEach((v, i) => expect(Math.abs(v - runs[0].out[i])).toBeLessThan(1e-4 * (1 + Math.abs(runs[0].out[i]))));
  });
});

describe('optimizers', () => {
  function param(values: number[], grads: number[], decay = true): Parameter {
    const p = new Parameter('w', tensor(Float32Array.from(values)) as Tensor<'float32'>, decay);
    p.grad.data.set(grads);
    return p;
  }

  it('SGD with momentum, weight decay and nesterov matches the formulas', () => {
    const p = param([1, -2, 3], [0.5, 0.5, -1]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    opt.step();
    opt.step();
    // v1 = g + wd·w0; w1 = w0 − lr·v1; v2 = 0.9·v1 + g + wd·w1; w2 = w1 − lr·v2.
    const w0 = [1, -2, 3];
    const g = [0.5, 0.5, -1];
    const want = w0.map((w, i) => {
      const v1 = g[i] + 0.01 * w;
      const w1 = w - 0.1 * v1;
      const v2 = 0.9 * v1 + g[i] + 0.01 * w1;
      return w1 - 0.1 * v2;
    });
    Array.from(p.value.data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    const q = param([1], [1]);
    new SGD([q], { lr: 0.1, momentum: 0.5, nesterov: true }).step();
    expect(q.value.data[0]).toBeCloseTo(1 - 0.1 * (1 + 0.5 * 1), 6);
  });

  it('AdamW matches the formulas, skips decay where the parameter says so, and keeps masks', () => {
    const p = param([1, -2], [0.1, -0.3]);
    const b = param([0.5, 0.5], [1, 1], false);
    const opt = new AdamW([p, b], { lr: 0.01, weightDecay: 0.1 });
    opt.step();
    // First step: m̂ = g, v̂ = g², so the update is lr·g/(|g| + eps) = ±lr.
    expect(p.value.data[0]).toBeCloseTo(1 * (1 - 0.001) - 0.01, 6);
    expect(p.value.data[1]).toBeCloseTo(-2 * (1 - 0.001) + 0.01, 6);
    expect(b.value.data[0]).toBeCloseTo(0.5 - 0.01, 6);
    p.setMask(tensor([0, 1]));
    expect(p.value.data[0] === 0).toBe(true);
    opt.step();
    expect(p.value.data[0] === 0).toBe(true); // ±0: the mask multiplies
    expect(p.value.data[1]).not.toBe(0);
  });

  it('schedules', () => {
    const cos = schedules.cosine({ warmup: 10, min: 0.1 });
    expect(cos(0, 110)).toBeCloseTo(0.1);
    expect(cos(9, 110)).toBeCloseTo(1);
    expect(cos(10, 110)).toBeCloseTo(1);
    expect(cos(60, 110)).toBeCloseTo(0.55);
    expect(cos(110, 110)).toBeCloseTo(0.1);
    expect(schedules.linear()(50, 100)).toBeCloseTo(0.5);
    expect(schedules.step({ every: 10, gamma: 0.5 })(25, 100)).toBeCloseTo(0.25);
    expect(schedules.constant({ warmup: 0.5 })(4, 20)).toBeCloseTo(0.5);
    expect(() => new SGD([], { lr: -1 })).toThrow(/lr must be a number/);
    expect(() => new AdamW([], { betas: [1.5, 0.9] })).toThrow(/betas\[0\]/);
  });
});

describe('training loop', () => {
  // Two interleaved spirals are not linearly separable: a linear model cannot fit them, an MLP can.
  function spirals(n: number, seed: number) {
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    const r = rand([n], { seed, low: 0, high: 1 }).data;
    for (let i = 0; i < n; i++) {
      const c = i % 2;
      const t = 0.5 + 2 * Math.PI * r[i];
      const a = t + c * Math.PI;
      x[2 * i] = (t * Math.cos(a)) / 7;
      x[2 * i + 1] = (t * Math.sin(a)) / 7;
      y[i] = c;
    }
    return { x: tensor(x, [n, 2]), y };
  }

  it('an MLP learns two spirals; the same seed gives the same weights', () => {
    const data = spirals(400, 1);
    const run = () => {
      const m = mlp([2, 64, 64, 2], { seed: 1 });
      const h = fit(m, data, { epochs: 60, batchSize: 32, optimizer: { type: 'adamw', lr: 5e-3 }, seed: 3, schedule: schedules.cosine() });
      return { m, h };
    };
    const a = run();
    expect(a.h.epochs.length).toBe(60);
    expect(a.h.epochs[59].loss).toBeLessThan(a.h.epochs[0].loss / 4);
    expect(evaluate(a.m, data).accuracy).toBeGreaterThan(0.95);
    const b = run();
    expect(Array.from(b.m.parameters()[0].value.data)).toEqual(Array.from(a.m.parameters()[0].value.data));
    const lin = new Sequential([new Linear(2, 2, { seed: 1 })]);
    fit(lin, data, { epochs: 30, optimizer: { type: 'sgd', lr: 0.1 } });
    expect(evaluate(lin, data).accuracy).toBeLessThan(0.8);
  });

  it('permutations are seeded and complete', () => {
    const p = permutation(100, 5);
    expect(Array.from(p).sort((u, v) => u - v)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(permutation(100, 5))).toEqual(Array.from(p));
    expect(Array.from(permutation(100, 6))).not.toEqual(Array.from(p));
  });

  it('reports bad data clearly', () => {
    const m = mlp([2, 4, 2]);
    expect(() => fit(m, { x: tensor([1, 2], [1, 2]), y: new Int32Array(2) })).toThrow(/data.y has 2 labels, data.x has 1 rows/);
    expect(() => fit(m, { x: tensor([1, 2, 3], [1, 3]), y: new Int32Array(1) })).toThrow(/x.shape\[1\] \(3\) must equal inFeatures \(2\)/);
    expect(() => fit(m, { x: tensor([1, 2], [1, 2]), y: new Int32Array(1) }, { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new Sequential([])).toThrow(/layers must be a non-empty array/);
    expect(() => new Linear(0, 3)).toThrow(/inFeatures must be a positive integer/);
  });
});
