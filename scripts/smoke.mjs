#!/usr/bin/env node
// A small end-to-end check of an installed simdtensor: an f32 matmul, an int8 linear, an f16 matmul and an async op,
// each against a plain JavaScript reference. Used by scripts/pack-test.mjs (on the packed tarball, with no compiler on
// PATH) and scripts/prebuild.mjs (the arm64 binary under qemu). Exits non-zero with the reason on any mismatch.
// Usage: node scripts/smoke.mjs [module]   (module: 'simdtensor' by default, or a path to the package's entry)
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';

const spec = process.argv[2] ?? 'simdtensor';
const st = await import(spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec);

const fail = (msg) => {
  console.error(`smoke: FAILED: ${msg}`);
  process.exit(1);
};
/** Deterministic values in [-1, 1) (no Math.random: a failure must reproduce). */
const values = (n, seed) => {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
};
/** Reference a[m,k] · b[n,k]ᵀ (transB) or a · b[k,n], in float64. */
const ref = (a, b, m, k, n, transB) => {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
};
const maxErr = (got, want) => {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
  return e;
};

const [m, k, n] = [7, 33, 65]; // off the tile sizes on purpose
const a = values(m * k, 1);
const b = values(k * n, 2);
const w = values(n * k, 3);
const want = ref(a, b, m, k, n, false);

const c = st.matmul(st.tensor(a, [m, k]), st.tensor(b, [k, n]));
const e32 = maxErr(c.data, want);
if (!(e32 < 1e-4)) fail(`f32 matmul max error ${e32}`);

// int8: per-channel quantized weights, x quantized per row on the fly; error bound relative to the output's scale.
const x = st.tensor(a, [m, k]);
const qw = st.quantize(st.tensor(w, [n, k]), { axis: 0 });
const y8 = st.linear(x, qw);
const wantLin = ref(a, w, m, k, n, true);
const rms = Math.sqrt(wantLin.reduce((s, v) => s + v * v, 0) / wantLin.length);
const e8 = maxErr(y8.data, wantLin) / rms;
if (!(e8 < 0.08)) fail(`int8 linear max error ${e8.toFixed(4)} of the output RMS`);

// f16 × f16 → f32.
const c16 = st.matmul(st.tensor(a, [m, k]).to('float16'), st.tensor(b, [k, n]).to('float16'));
const e16 = maxErr(c16.data, want);
if (!(e16 < 0.05)) fail(`f16 matmul max error ${e16}`);

// Async: runs on the addon's own threads; must equal the sync result bit for bit.
const ca = await st.matmulAsync(st.tensor(a, [m, k]), st.tensor(b, [k, n]));
for (let i = 0; i < c.data.length; i++) if (ca.data[i] !== c.data[i]) fail(`matmulAsync differs from matmul at ${i}`);

const info = st.cpuInfo();
console.log(
  `smoke: ok on ${process.arch} (best ISA ${info.bestIsa}; ${info.kernels['matmul.f32']}; errors f32 ${e32.toExponential(1)}, ` +
    `int8 ${(e8 * 100).toFixed(2)} % of RMS, f16 ${e16.toExponential(1)}; async = sync)`,
);
