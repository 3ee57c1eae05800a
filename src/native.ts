/**
 * Loads the compiled addon and declares its exact shape. Everything native goes through `native`.
 * @module
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markAsUntransferable } from 'node:worker_threads';

/** Handle of f32 weights packed into microkernel panels (owned by native code). */
export interface NativePackedF32 {
  readonly k: number;
  readonly n: number;
  readonly bytes: number;
}

/** Handle of int8/uint8 weights packed into int8 GEMM panels with column sums and scales (native/binding/s8.cc). */
export interface NativePackedS8 {
  readonly k: number;
  readonly n: number;
  readonly bytes: number;
  /** True for uint8 weights. */
  readonly unsigned: boolean;
}

/** Validated sparse f32 weights copied into native memory (native/binding/sparse.cc). */
export interface NativeSparseF32 {
  readonly n: number;
  readonly k: number;
  /** Values stored. */
  readonly stored: number;
  /** Stored values that are nonzero. */
  readonly nonzeros: number;
  readonly bytes: number;
  /** True once the dense fallback copy exists. */
  readonly hasDense: boolean;
}

/** Handle of f16/bf16 weights packed into half GEMM panels (owned by native code). */
export interface NativePackedHalf {
  readonly k: number;
  readonly n: number;
  readonly bytes: number;
  /** 1 float16, 2 bfloat16. */
  readonly type: number;
  /** Largest |w| (Infinity if w holds Inf or NaN). */
  readonly maxAbs: number;
}

/** Validated pruned-and-quantized int8 weights in native memory, stored as groups of 4 columns (sparse.cc). */
export interface NativeSparseS8 {
  readonly n: number;
  readonly k: number;
  /** 4-column groups stored (the kernels' work). */
  readonly storedGroups: number;
  readonly nonzeros: number;
  readonly bytes: number;
  readonly hasDense: boolean;
}

/** What the addon exports (kept in step with native/binding/*.cc). */
export interface NativeAddon {
  cpuInfo(): NativeCpuInfo;
  setMaxIsa(isa: string): string;
  getMaxIsa(): string;
  /** The kernel a cpuInfo().kernels op runs for m rows (native/cpu/dispatch.h op_kernel_for_m). */
  kernelForM(op: string, m: number): string;
  PackedF32: new (b: Float32Array, k: number, n: number, transB: boolean) => NativePackedF32;
  matmulPacked(a: Float32Array, m: number, packed: NativePackedF32, out: Float32Array, bias: Float32Array | null, act: number): void;
  matmul(a: Float32Array, m: number, k: number, b: Float32Array, n: number, transB: boolean, out: Float32Array, bias: Float32Array | null, act: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  binaryRow(op: number, a: Float32Array, row: Float32Array, out: Float32Array, rows: number, cols: number): void;
  activation(act: number, x: Float32Array, out: Float32Array, n: number): void;
  /** UnaryOp codes (native/kernels/f32-eltwise/f32-eltwise.h): 0 clip(p0, p1), 1 leaky relu(p0), 2 sigmoid, 3 tanh, 4 exp, 5 sqrt, 6 rsqrt, 7 erf, 8 elu(p0). */
  unary(op: number, x: Float32Array, out: Float32Array, n: number, p0: number, p1: number): void;
  softmax(log: boolean, x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** Row-wise layernorm of x (+ residual, same size, added first when given). */
  layerNorm(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, eps: number, out: Float32Array, rows: number, cols: number, residual?: Float32Array | null): void;
  /** GFLOP/s of an f32 FMA loop on the best allowed ISA, best window over about `ms` milliseconds. */
  probeF32Peak(ms: number): number;
  /** GB/s of one core streaming reads over a buffer of `bytes` (median pass over about `ms` milliseconds). */
  probeReadBandwidth(bytes: number, ms: number): number;
  // Output-buffer pool (native/binding/alloc.cc, src/alloc.ts).
  allocBuffer(bytes: number, scoped?: boolean): ArrayBuffer;
  allocBuffer(bytes: number, scoped: boolean, uninit: true): ArrayBuffer | null;
  bufferPool(): { cachedBytes: number; cachedBlocks: number; limitBytes: number; hits: number; misses: number; outstandingBytes: number; declined: number; released: number; plainBelowBytes: number };
  /** Hands a pooled output's block back now, detaching `ab`; false (and `ab` untouched) when it cannot. */
  releaseBuffer(ab: ArrayBuffer): boolean;
  /** What native/runtime/core/malloc_tuning.cc set (process-wide, once). */
  mallocTuning(): { applied: boolean; mmapThreshold: number; trimThreshold: number };
  setBufferPoolLimit(bytes: number): void;
  /** Unscoped outputs under `bytes` become plain buffers (set at load from the malloc tuning; tests change it). */
  setBufferPoolPlainBelow(bytes: number): void;
  trimBufferPool(): void;
  // Families add their functions below (one block each).
  // Half precision (native/binding/half.cc, src/half/). Type codes: 0 float32, 1 float16, 2 bfloat16.
  PackedHalf: new (b: Uint16Array, k: number, n: number, transB: boolean, type: number, aType: number) => NativePackedHalf;
  /** kind: 0 f32→f16, 1 f16→f32, 2 f32→bf16, 3 bf16→f32. */
  halfConvert(kind: number, input: Float32Array | Uint16Array, out: Float32Array | Uint16Array, n: number): void;
  /** Returns the kernel that ran. */
  halfMatmulPacked(a: Float32Array | Uint16Array, aType: number, m: number, packed: NativePackedHalf, out: Float32Array | Uint16Array, outType: number, bias: Float32Array | null, act: number): string;
  /** Returns the kernel that ran. */
  halfMatmul(a: Float32Array | Uint16Array, aType: number, m: number, k: number, b: Uint16Array, bType: number, n: number, transB: boolean, out: Float32Array | Uint16Array, outType: number, bias: Float32Array | null, act: number): string;
  // Async forms (native/binding/half.cc, one op description each): the same arguments plus an op id; they resolve with `out`.
  halfMatmulPackedAsync(a: Float32Array | Uint16Array, aType: number, m: number, packed: NativePackedHalf, out: Float32Array | Uint16Array, outType: number, bias: Float32Array | null, act: number, id: number): Promise<unknown>;
  halfMatmulAsync(a: Float32Array | Uint16Array, aType: number, m: number, k: number, b: Uint16Array, bType: number, n: number, transB: boolean, out: Float32Array | Uint16Array, outType: number, bias: Float32Array | null, act: number, id: number): Promise<unknown>;
  /** kind: 0 fp16 FMA, 1 bf16 dot (vdpbf16ps), 2 AMX-BF16. GFLOP/s, or null without that unit. */
  probeHalfPeak(kind: number, ms: number): number | null;
  // Parallel executor (native/binding/async.cc, op.h; docs/parallel.md). Async functions take an op id
  // (uint32, 0 = none) for cancelAsync and resolve with their `out` argument.
  setNumThreads(n: number): number;
  getNumThreads(): number;
  defaultNumThreads(): number;
  cancelAsync(id: number): boolean;
  asyncStats(): NativeAsyncStats;
  /**
   * Sets the function that makes an ArrayBuffer untransferable; native code calls it on every ArrayBuffer an async
   * op queued to the pool reads or writes (a transfer would detach it and let V8 free memory a worker still uses).
   */
  setTransferGuard(fn: (buffer: ArrayBuffer) => void): void;
  /** CPU ms used so far by the calling thread and by each pool worker (Linux; empty elsewhere). */
  threadCpuTimes(): { caller: number; workers: number[] };
  matmulPackedAsync(a: Float32Array, m: number, packed: NativePackedF32, out: Float32Array, bias: Float32Array | null, act: number, id: number): Promise<Float32Array>;
  matmulAsync(a: Float32Array, m: number, k: number, b: Float32Array, n: number, transB: boolean, out: Float32Array, bias: Float32Array | null, act: number, id: number): Promise<Float32Array>;
  // int8 (native/binding/s8.cc, src/int8/; docs/int8.md). Per-tensor/per-row/per-column parameter arrays
  // have 1 or count values. s8Gemm's output kind follows `out`: Int32Array exact, Float32Array dequantized,
  // Int8Array/Uint8Array requantized with outScale/outZero. Both GEMMs return the kernel that ran.
  PackedS8: new (b: Int8Array | Uint8Array, k: number, n: number, transB: boolean, zeroPoint: Int32Array | null, scale: Float32Array | null) => NativePackedS8;
  s8Gemm(a: Int8Array | Uint8Array, m: number, packed: NativePackedS8, aZero: Int32Array | null, aScale: Float32Array | null, out: Int32Array | Float32Array | Int8Array | Uint8Array, bias: Float32Array | null, act: number, outScale: number, outZero: number): string;
  s8LinearDynamic(x: Float32Array, m: number, packed: NativePackedS8, out: Float32Array, bias: Float32Array | null, act: number): string;
  // Async forms (native/binding/s8.cc, one op description each): the same arguments plus an op id; they resolve with `out`.
  s8GemmAsync(a: Int8Array | Uint8Array, m: number, packed: NativePackedS8, aZero: Int32Array | null, aScale: Float32Array | null, out: Int32Array | Float32Array | Int8Array | Uint8Array, bias: Float32Array | null, act: number, outScale: number, outZero: number, id: number): Promise<unknown>;
  /** Exact int32 product with one-off int8/uint8 weights, packed on the worker. */
  s8MatmulAsync(a: Int8Array | Uint8Array, m: number, k: number, b: Int8Array | Uint8Array, n: number, transB: boolean, out: Int32Array, id: number): Promise<Int32Array>;
  s8LinearDynamicAsync(x: Float32Array, m: number, packed: NativePackedS8, out: Float32Array, bias: Float32Array | null, act: number, id: number): Promise<Float32Array>;
  /**
   * Requantized linear over f32 activations: x is quantized per row on the worker (row parameters written to
   * rowScales/rowZeros); a row with NaN/±Inf leaves a NaN scale and out untouched (the caller reports it).
   */
  s8LinearDynamicQAsync(x: Float32Array, m: number, packed: NativePackedS8, out: Int8Array | Uint8Array, bias: Float32Array | null, act: number, outScale: number, outZero: number, xUnsigned: boolean, rowScales: Float32Array, rowZeros: Int32Array, id: number): Promise<unknown>;
  quantize(x: Float32Array, out: Int8Array | Uint8Array, outer: number, channels: number, inner: number, scale: Float32Array, zeroPoint: Int32Array, symmetric: boolean): void;
  dequantize(q: Int8Array | Uint8Array, out: Float32Array, outer: number, channels: number, inner: number, scale: Float32Array, zeroPoint: Int32Array): void;
  /** Per-channel min/max over non-NaN values; returns true when a NaN was seen. */
  quantMinMax(x: Float32Array, outer: number, channels: number, inner: number, mins: Float32Array, maxs: Float32Array): boolean;
  quantParams(mins: Float32Array, maxs: Float32Array, count: number, unsigned: boolean, symmetric: boolean, scales: Float32Array, zeros: Int32Array): void;
  quantHistogram(x: Float32Array, n: number, lo: number, hi: number, counts: Float64Array): void;
  /** Dynamic per-row quantization; returns the number of rows holding NaN/±Inf (their scale is NaN). */
  quantizeRows(x: Float32Array, m: number, k: number, out: Int8Array | Uint8Array, scales: Float32Array, zeros: Int32Array): number;
  probeVnniPeak(ms: number): { gops: number; kernel: string } | null;
  probeAmxInt8Peak(ms: number): { gops: number; kernel: string } | null;
  // Sparse weights (native/binding/sparse.cc, src/sparse/; docs/sparse.md). Format codes: 0 csr,
  // 1 bsr, 2 n:m; a, b = block rows, cols (bsr) or n, m (n:m). Modes: 0 auto, 1 sparse, 2 dense.
  SparseF32: new (format: number, n: number, k: number, rowPtr: Int32Array | null, colIdx: Uint16Array | Int32Array | null, values: Float32Array, a: number, b: number, indices: Uint8Array | null) => NativeSparseF32;
  /** Returns the kernel that ran (a sparse kernel or the dense fallback). */
  sparseLinear(w: NativeSparseF32, x: Float32Array, m: number, out: Float32Array, bias: Float32Array | null, act: number, mode: number): string;
  sparseLinearAsync(w: NativeSparseF32, x: Float32Array, m: number, out: Float32Array, bias: Float32Array | null, act: number, mode: number, id: number): Promise<Float32Array>;
  sparseKernelFor(w: NativeSparseF32, m: number, mode: number): string;
  sparseMaxDensity(w: NativeSparseF32, m: number): number;
  sparseToDense(w: NativeSparseF32, out: Float32Array): void;
  denseToSparse(w: Float32Array, n: number, k: number, format: number, a: number, b: number, idx16: boolean): { rowPtr: Int32Array; colIdx: Uint16Array | Int32Array; values: Float32Array; indices: Uint8Array };
  /** pattern: 0 unstructured, 1 n:m (a:b), 2 block (a×b). Returns the zeros in out. */
  pruneF32(w: Float32Array, n: number, k: number, pattern: number, sparsity: number, perRow: boolean, a: number, b: number, out: Float32Array, mask: Uint8Array | null): number;
  // int8 sparse (pruned and quantized, one scale per row): same conventions as the f32 functions above.
  SparseS8: new (format: number, n: number, k: number, rowPtr: Int32Array | null, colIdx: Uint16Array | Int32Array | null, values: Int8Array, a: number, b: number, indices: Uint8Array | null, scales: Float32Array) => NativeSparseS8;
  sparseS8Linear(w: NativeSparseS8, x: Float32Array, m: number, out: Float32Array, bias: Float32Array | null, act: number, mode: number): string;
  sparseS8LinearAsync(w: NativeSparseS8, x: Float32Array, m: number, out: Float32Array, bias: Float32Array | null, act: number, mode: number, id: number): Promise<Float32Array>;
  sparseS8KernelFor(w: NativeSparseS8, m: number, mode: number): string;
  sparseS8MaxDensity(w: NativeSparseS8, m: number): number;
  sparseS8ToDense(w: NativeSparseS8, out: Int8Array): void;
  // Convolution (native/binding/conv.cc, src/conv/conv2d.ts; docs/conv.md). layout: 0 oihw, 1 hwio, 2 iohw, 3 hwoi.
  // geometry = [n, h, w, sH, sW, dH, dW, padT, padL, padB, padR, transposed, outPadH, outPadW, nchw].
  PackedConvF32: new (w: Float32Array, layout: number, c: number, m: number, kh: number, kw: number, groups: number, scale: Float32Array | null) => NativePackedConv;
  conv2d(x: Float32Array, packed: NativePackedConv, geometry: Int32Array, out: Float32Array, bias: Float32Array | null, residual: Float32Array | null, act: number, p0: number, p1: number): void;
  conv2dAsync(x: Float32Array, packed: NativePackedConv, geometry: Int32Array, out: Float32Array, bias: Float32Array | null, residual: Float32Array | null, act: number, p0: number, p1: number, id: number): Promise<Float32Array>;
  /** int8 conv (groups 1): x u8/s8 NHWC or NCHW, packed = PackedS8 over K = kh·kw·c in (ky, kx, c) order, [M, K] rows. */
  s8Conv2d(x: Int8Array | Uint8Array, packed: NativePackedS8, geometry: Int32Array, kh: number, kw: number, c: number, xZero: number, xScale: number, out: Int32Array | Float32Array | Int8Array | Uint8Array, bias: Float32Array | null, act: number, outScale: number, outZero: number, actA: number, actB: number, residual: Float32Array | null, rowZero: Int32Array | null, rowScale: Float32Array | null): string;
  s8Conv2dAsync(x: Int8Array | Uint8Array, packed: NativePackedS8, geometry: Int32Array, kh: number, kw: number, c: number, xZero: number, xScale: number, out: Int32Array | Float32Array | Int8Array | Uint8Array, bias: Float32Array | null, act: number, outScale: number, outZero: number, actA: number, actB: number, residual: Float32Array | null, rowZero: Int32Array | null, rowScale: Float32Array | null, id: number): Promise<unknown>;
  // Windowed f32 ops (native/binding/pool.cc, src/conv/; docs/conv.md). Integer parameters travel in one Int32Array
  // (layouts in pool.cc); async forms take an op id and resolve with `out`.
  depthwiseConv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, params: Int32Array, actA: number, actB: number): void;
  // Recorded step sequences (native/binding/steps.cc): the compiled TF.js plan's split head (src/tfjs/plan.ts).
  ChunkSteps: new (lanes: number, chunks: number, inFloats: number) => NativeChunkSteps;
  /** While `steps` is set, sync ops are validated as usual, then recorded into (chunk, lane) instead of run; null stops. */
  recordSteps(steps: NativeChunkSteps | null, chunk: number, lane: number): void;
  /** Runs every recorded chunk, chunks spread over the pool; chunk c first copies its slice of x into stage. */
  runSteps(steps: NativeChunkSteps, x: Float32Array, stage: Float32Array): void;
  depthwiseConv2dAsync(x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, params: Int32Array, actA: number, actB: number, id: number): Promise<unknown>;
  pool2d(x: Float32Array, out: Float32Array, params: Int32Array): void;
  pool2dAsync(x: Float32Array, out: Float32Array, params: Int32Array, id: number): Promise<unknown>;
  globalPool(x: Float32Array, out: Float32Array, params: Int32Array): void;
  globalPoolAsync(x: Float32Array, out: Float32Array, params: Int32Array, id: number): Promise<unknown>;
  /** params = [batch, rows, cols]: out[b][j][i] = x[b][i][j] (the NCHW <-> NHWC layout change). */
  transposeBatched(x: Float32Array, out: Float32Array, params: Int32Array): void;
  transposeBatchedAsync(x: Float32Array, out: Float32Array, params: Int32Array, id: number): Promise<unknown>;
  // Convolution gradients (native/binding/conv_grad.cc; src/tfjs/grad.ts). NHWC; geometry = Int32Array(15):
  // n, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, mult.
  /** im2col rows [row0, row0 + rows) of x: rows × (kh·kw·c) floats, (ky, kx, c) order, zeros in the padding. */
  convIm2col(x: Float32Array, geometry: Int32Array, row0: number, rows: number, cols: Float32Array): void;
  /** Depthwise filter gradient dw [kh, kw, c, mult] from x and dy (overwrites dw). */
  dwconvBackwardFilter(x: Float32Array, dy: Float32Array, geometry: Int32Array, dw: Float32Array): void;
  /** Depthwise input gradient dx [n, ih, iw, c] from w [kh, kw, c, mult] and dy (overwrites dx). */
  dwconvBackwardInput(w: Float32Array, dy: Float32Array, geometry: Int32Array, dx: Float32Array): void;
  resize(x: Float32Array, out: Float32Array, params: Int32Array, scaleH: number, scaleW: number): void;
  resizeAsync(x: Float32Array, out: Float32Array, params: Int32Array, scaleH: number, scaleW: number, id: number): Promise<unknown>;
  // ONNX runtime helpers (native/binding/onnx.cc, src/onnx; docs/onnx.md).
  /** ONNX DynamicQuantizeLinear (uint8) with onnxruntime's arithmetic; params receives [scale, zero point]. */
  onnxDynamicQuantize(x: Float32Array, out: Uint8Array, params: Float32Array): void;
  /** N-d transpose of 4-byte elements: shape = output dims (rank <= 8), xstride = x's stride per output axis. */
  onnxTranspose(x: Float32Array | Int32Array, out: Float32Array | Int32Array, shape: Int32Array, xstride: Int32Array): void;
  /**
   * ONNX Gather rows: out[o, j, :] = x[o, idx[j], :] (outer × dim rows of rowBytes bytes in x); returns idx.length, or
   * the position of the first index outside [-dim, dim) with nothing written.
   */
  onnxGather(x: Uint8Array, out: Uint8Array, idx: Int32Array | Float64Array, outer: number, dim: number, rowBytes: number): number;
  /** dst[i] = Number(src[i]) for every element of src, natively (no BigInt object per element); dst at least as long. */
  onnxInt64ToF64(src: BigInt64Array, dst: Float64Array): void;
  /** The fast-dynamic-quantize DynamicQuantize of all of x into y, scale[0] and zeroPoint[0] (recordable). */
  onnxDynamicQuantizeFast(x: Float32Array, y: Uint8Array, scale: Float32Array, zeroPoint: Uint8Array): void;
  /** out[i] = x[i] as int32 for every element of x (recordable). */
  onnxWidenI32(x: Uint8Array | Int8Array, out: Int32Array): void;
  /** Fused attention (runtime/f32/attention_driver.h): geom = [batch, heads, seqQ, seqK, dk, dv, q/k/v offset + batch/row/head strides (4 each), out batch/row/head strides, mask batch/head/row/col strides]. */
  onnxAttention(q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array | null, out: Float32Array, geom: Int32Array, scale: number): void;
  [name: string]: unknown;
}

/** Handle of f32 convolution weights packed into per-group GEMM panels (native/binding/conv.cc). */
export interface NativePackedConv {
  readonly bytes: number;
}

/** Steps recorded per chunk and lane, run chunk-concurrently over the pool (native/runtime/core/chunk_steps.h). */
export interface NativeChunkSteps {
  readonly lanes: number;
  readonly chunks: number;
  /** Steps recorded so far (every chunk and lane). */
  readonly steps: number;
}

/** Pool and async-queue counters (process-wide except `pending` and `inPool`, which are this thread's). */
export interface NativeAsyncStats {
  pending: number;
  inPool: number;
  busyRanges: number;
  threads: number;
  workers: number;
  queued: number;
  activeJobs: number;
  jobsSplit: number;
  helperJoins: number;
  tasksRun: number;
  sleeping: number;
  spinning: number;
  spinUs: number;
  /** Async ops below this many arithmetic ops run inline on the calling thread. */
  inlineOps: number;
}

/** Raw CPU description from the addon (ISA levels as plain strings; cpu.ts's CpuInfo types them). */
export interface NativeCpuInfo {
  /** CPU vendor string (e.g. GenuineIntel, AuthenticAMD, arm). */
  vendor: string;
  /** Marketing name from cpuid. */
  brand: string;
  /** 'x64' or 'arm64'. */
  arch: string;
  /** Logical CPUs the OS reports. */
  logicalCpus: number;
  /** Detected features (cpuid bits masked by OS support from XCR0; amxPermitted is the Linux tile permission). */
  flags: Record<string, boolean>;
  bestIsa: string;
  maxIsa: string;
  supportedIsas: string[];
  /** For each op, the kernel that will run under the current cap. */
  kernels: Record<string, string>;
}

/** The package root: the nearest folder at or above `start` whose package.json names simdtensor. */
export function findRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'simdtensor') return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  throw new Error(`simdtensor: package root not found above ${start}`);
}

/**
 * Finds the addon: SIMDTENSOR_ADDON (a development override) if set, else what node-gyp-build picks — a local build
 * (build/Release, build/Debug) first, then the prebuilt binary of this platform shipped in prebuilds/ — else a
 * cmake-js build. One binary per platform serves every CPU of its architecture (the ISA is chosen at run time).
 */
function load(): NativeAddon {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = findRoot(here);
  const require = createRequire(import.meta.url);
  const override = process.env.SIMDTENSOR_ADDON;
  if (override) return require(override) as NativeAddon;
  let found: string | null = null;
  let notFound = '';
  let gypBuild: { path(dir: string): string } | null = null;
  try {
    gypBuild = require('node-gyp-build');
  } catch {
    // A checkout whose node_modules predates the dependency: its own builds are still found below.
  }
  if (gypBuild) {
    try {
      found = gypBuild.path(root);
    } catch (e) {
      notFound = (e as Error).message.split('\n')[0];
    }
  }
  const local = [join(root, 'build', 'Release', 'simdtensor.node'), join(root, 'build', 'Debug', 'simdtensor.node'), join(root, 'build-cmake', 'Release', 'simdtensor.node')];
  found ??= local.find((p) => existsSync(p)) ?? null;
  if (found) return require(found) as NativeAddon;
  const platform = `${process.platform}-${process.arch}`;
  throw new Error(
    `simdtensor: no native addon for ${platform} (${notFound || `none in ${local.join(', ')}`}). The package ships prebuilt ` +
      `binaries for linux-x64 and linux-arm64 (glibc); elsewhere it must be built from source, which needs a C++17 ` +
      `compiler, make and python3 (Debian/Ubuntu: apt-get install g++ make python3; macOS: xcode-select --install). ` +
      `In a checkout: npm run build:native. As a dependency: npm rebuild simdtensor (newer npm skips dependency ` +
      `install scripts until allowed: npm install-scripts approve simdtensor).`,
  );
}

/** The loaded addon. */
export const native: NativeAddon = load();

const nativeOnlyCalls = new WeakSet<() => void>();
/**
 * Marks `call` as made only of synchronous native op calls that the addon records while `recordSteps` is on (the op
 * forms of binding/op.h, and the few entry points that record themselves): no JavaScript work of its own that a run
 * needs — no copies, loops over elements, fills or checks of what the natives return. A planned ONNX run records such
 * kept calls once and replays them in one native call (src/onnx/plan.ts, "replayed segments"). A native function that
 * does not record throws while recording, so a wrong mark fails loudly there; JavaScript work in a marked call would
 * not, so mark only calls that are nothing but native op calls. Returns `call`.
 */
export function nativeOnly<F extends () => void>(call: F): F {
  nativeOnlyCalls.add(call);
  return call;
}
/** Whether {@link nativeOnly} marked `call`. */
export function isNativeOnly(call: () => void): boolean {
  return nativeOnlyCalls.has(call);
}

let isaEpoch = 0;
/** Counts setMaxIsa calls: a recorded call holds the kernels selected when it was recorded (src/onnx/plan.ts). */
export function maxIsaEpoch(): number {
  return isaEpoch;
}
/** @internal Called by setMaxIsa (src/cpu.ts). */
export function bumpMaxIsaEpoch(): void {
  isaEpoch++;
}

// Memory an async op in flight uses must not be transferred away (see docs/parallel.md, "Buffers").
native.setTransferGuard(markAsUntransferable as (buffer: ArrayBuffer) => void);

const envIsa = process.env.SIMDTENSOR_MAX_ISA;
if (envIsa) {
  const known = ['scalar', 'avx2', 'avxvnni', 'avx512', 'avx512vnni', 'avx512bf16', 'avx512fp16', 'amx', 'neon', 'neondot', 'neonfp16', 'neoni8mm'];
  if (!known.includes(envIsa.toLowerCase().replace(/[-_ ]/g, '')))
    throw new RangeError(`SIMDTENSOR_MAX_ISA: unknown isa '${envIsa}' (expected one of ${known.join(', ')})`);
}
