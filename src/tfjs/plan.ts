/**
 * A folded tfjs-layers model compiled to one planned sequence of native calls, run behind a single TF.js kernel
 * (`SimdtensorLayersModel`): TF.js's engine is entered once per predict instead of once per layer, the
 * intermediates live in one arena planned by lifetime (per batch size, reused across runs), and the weights are
 * packed once at compile time. The residual `Add` that alone consumes a linear conv's output runs in that conv's
 * epilogue. optimizeLayersModel (./optimize.ts) compiles the model and routes `predict` / `execute` here when the
 * backend has the kernel; every other case keeps tfjs-layers' own per-layer path.
 * @module
 */
import { packConvWeights, PackedConvWeights } from '../conv/conv2d.js';
import type { Tensor } from '../tensor.js';
import type { ConvActivation } from '../conv/activation.js';
import { planConv } from '../conv/conv2d.js';
import { plan as planDepthwise } from '../conv/depthwise.js';
import { allocF32 } from '../alloc.js';
import { matmul, packWeights } from '../ops/matmul.js';
import type { PackedWeights } from '../ops/matmul.js';
import { native } from '../native.js';
import type { NativeChunkSteps } from '../native.js';
import { allocOut } from './buffers.js';
import { convGeometry, windowFields } from './conv.js';
import type { ConvAttrs } from './conv.js';
import { f32Data, output, sizeOf, view } from './types.js';
import type { KernelArgs, NativeKernel, TfCore } from './types.js';

/** Name of the kernel that runs a compiled model (registered for the simdtensor backend only). */
export const PLAN_KERNEL = 'SimdtensorLayersModel';

/** A folded conv as optimizeLayersModel leaves it: weights (TF.js tensors) and the fused call's attributes. */
export interface FoldedConv {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  filter: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  bias: any;
  attrs: ConvAttrs;
  activation: 'linear' | 'relu' | 'relu6';
  depthwise: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** One value of the compiled graph: its shape without the batch dimension and the storage it lives in. */
interface Value {
  shape: number[];
  /** The value whose storage this one views (itself unless an alias: Flatten, the absorbed layers). */
  base: number;
}

/** A step of the compiled graph (batch-independent); `x`, `b`, `out` are value ids. */
type Op =
  | { k: 'conv'; x: number; out: number; conv: FoldedConv; residual: number }
  | { k: 'add'; x: number; b: number; out: number }
  | { k: 'clip'; x: number; out: number; hi: number }
  | { k: 'gap'; x: number; out: number }
  | { k: 'dense'; x: number; out: number; w: PackedWeights; bias: Float32Array | null; relu: boolean }
  | { k: 'softmax'; x: number; out: number };

const INPUT = 0;
/**
 * Default of {@link CompiledModel.splitBytes}: about one core's L2 (1 MiB on Zen 5). On MobileNetV2 at batch 16
 * (1 thread) splitting cut the run's CPU time ~20 % (docs/tfjs.md); thresholds from 256 KiB to 16 MiB measured alike
 * within the noise of the shared machine.
 */
export const SPLIT_BYTES = 1024 * 1024;
const ALIGN = 16; // floats: 64-byte aligned slices of the arena
const clipHi = (a: 'linear' | 'relu' | 'relu6'): number => (a === 'relu6' ? 6 : Infinity);

/** Lays out `sizes` (floats) in one arena by lifetime: best fit among freed ranges; returns offsets and the total. */
function layout(sizes: number[], first: number[], last: number[], steps: number): { offset: number[]; total: number } {
  const offset = new Array<number>(sizes.length).fill(0);
  let free: [number, number][] = [];
  let total = 0;
  for (let t = 0; t < steps; t++) {
    for (let s = 0; s < sizes.length; s++) {
      if (first[s] !== t) continue;
      let best = -1;
      for (let b = 0; b < free.length; b++) if (free[b][1] >= sizes[s] && (best < 0 || free[b][1] < free[best][1])) best = b;
      if (best < 0) {
        offset[s] = total;
        total += sizes[s];
        continue;
      }
      offset[s] = free[best][0];
      free[best] = [free[best][0] + sizes[s], free[best][1] - sizes[s]];
      if (free[best][1] === 0) free.splice(best, 1);
    }
    // Freed after the step's outputs are placed: an output never shares memory with that step's inputs.
    for (let s = 0; s < sizes.length; s++) if (last[s] === t) free.push([offset[s], sizes[s]]);
    free.sort((a, b) => a[0] - b[0]);
    free = free.reduce<[number, number][]>((m, f) => {
      const p = m[m.length - 1];
      if (p && p[0] + p[1] === f[0]) p[1] += f[1];
      else m.push([f[0], f[1]]);
      return m;
    }, []);
  }
  return { offset, total };
}

/** Steps [from, to) of the graph compiled for one batch size: the arena and one closure per step. */
interface Segment {
  steps: ((x: Float32Array, out: Float32Array) => void)[];
}

/**
 * The split head recorded natively for `lanes` threads: each lane has its own copy of the head's intermediates
 * (`arenas`: the head segments whose arenas the records use, kept alive here), every chunk is recorded once per
 * lane, and runSteps hands each thread a chunk at a time (the chunk's steps single-threaded on it) after copying the
 * chunk's input into `stage`, the array the records read.
 */
interface ParallelHead {
  steps: NativeChunkSteps;
  stage: Float32Array;
  arenas: Segment[];
}

/**
 * The plan for one batch size. Large batches run the first steps (`head`, the high-resolution layers) `chunk`
 * samples at a time into `mid`, then the rest (`tail`) on the whole batch: a chunk's activations stay in cache
 * where the whole batch's would stream through memory (MobileNetV2 at batch 16: 77 MB for one 112×112×96 value).
 * With several threads the chunks run concurrently (`par`), one per thread, instead of one after the other with
 * each step split over the threads: at batch 16 most head steps are small enough that a fork/join per step and its
 * imbalance cost a large share of the second thread (docs/tfjs.md). The tail stays parallel within each step.
 */
interface BatchPlan {
  head: Segment | null;
  par: ParallelHead | null;
  chunk: number;
  mid: Float32Array | null;
  inSize: number;
  midSize: number;
  tail: Segment;
  outShape: number[];
  outSize: number;
}

/** A model compiled for the plan kernel (see the module comment). */
export class CompiledModel {
  private readonly plans = new Map<number, BatchPlan | null>();
  private splitBytes = SPLIT_BYTES;
  /** Samples per chunk of the split head. */
  chunk = 1;
  private concurrentHead = true;

  /**
   * Whether the split head is recorded and run in one native call, its chunks concurrently with several pool threads
   * (one chunk per thread, see {@link BatchPlan}); false calls each chunk's steps from JS one after another, each
   * step parallel on its own (the plan before; A/B).
   */
  get parallelHead(): boolean {
    return this.concurrentHead;
  }
  set parallelHead(on: boolean) {
    if (typeof on !== 'boolean') throw new TypeError(`${PLAN_KERNEL}: parallelHead must be a boolean, got ${typeof on}`);
    this.concurrentHead = on;
  }
  private readonly weights = new Map<Op, { W: Float32Array; bias: Tensor<'float32'> | null; packed: PackedConvWeights }>();

  constructor(
    private readonly tf: TfCore,
    readonly inputShape: readonly number[],
    private readonly values: Value[],
    private readonly ops: Op[],
    private readonly outValue: number,
  ) {}

  /**
   * Values of a whole batch above this many bytes run sample by sample (see {@link BatchPlan}); Infinity runs every
   * batch whole. Drops the plans made so far.
   */
  setSplitBytes(bytes: number): void {
    this.splitBytes = bytes;
    this.plans.clear();
  }

  /** Whether `shape` (batch first) is the model input's. */
  accepts(shape: readonly number[]): boolean {
    if (shape.length !== this.inputShape.length + 1 || !(shape[0] > 0)) return false;
    for (let i = 0; i < this.inputShape.length; i++) if (shape[i + 1] !== this.inputShape[i]) return false;
    return true;
  }

  /**
   * The plan for batch `n` at the pool's current thread count (built on first use; null when a conv's geometry is
   * one our kernels do not reproduce).
   */
  planFor(n: number): BatchPlan | null {
    // Lanes of the recorded head: one per thread, at most one per chunk (a batch without a split head ignores it).
    const lanes = this.parallelHead ? Math.max(1, Math.min(native.getNumThreads(), Math.floor(n / this.chunk))) : 0;
    const key = n * 512 + lanes;
    let p = this.plans.get(key);
    if (p === undefined) {
      // A few batch sizes are kept (each holds an arena of its intermediates).
      if (this.plans.size >= 8) this.plans.delete(this.plans.keys().next().value as number);
      p = this.build(n, lanes);
      this.plans.set(key, p);
    }
    return p;
  }

  /** A conv step's weights, read and packed once for every batch size. */
  private weightsOf(op: Op & { k: 'conv' }): { W: Float32Array; bias: Tensor<'float32'> | null; packed: PackedConvWeights } {
    let w = this.weights.get(op);
    if (!w) {
      const c = op.conv;
      const W = Float32Array.from(c.filter.dataSync() as Float32Array);
      const bias = c.bias ? view(Float32Array.from(c.bias.dataSync() as Float32Array), [c.bias.size]) : null;
      // Depthwise filters stay raw ('hwcm': the depthwise kernels read them as they are).
      const packed = c.depthwise ? (null as unknown as PackedConvWeights) : packConvWeights(view(W, c.filter.shape), { weightLayout: 'hwio' });
      this.weights.set(op, (w = { W, bias, packed }));
    }
    return w;
  }

  /**
   * The split point for batch `n`: the first step boundary after which every value of n samples fits in
   * {@link SPLIT_BYTES} and exactly one value (not the input) crosses it, or -1 (no split: small batches, or no such
   * boundary).
   */
  private splitFor(n: number): [number, number] | null {
    if (n < 2) return null;
    const { values, ops } = this;
    const bytes = (i: number) => 4 * n * sizeOf(values[i].shape);
    let s = ops.length;
    while (s > 0 && bytes(ops[s - 1].out) <= this.splitBytes) s--;
    if (s === 0) return null;
    for (; s < ops.length; s++) {
      // Values made before s (or the input) and read from s on: one, not the input.
      const made = new Set<number>([INPUT]);
      for (let t = 0; t < s; t++) made.add(values[ops[t].out].base);
      const crossing = new Set<number>();
      for (let t = s; t < ops.length; t++) for (const i of reads(ops[t])) if (made.has(values[i].base)) crossing.add(values[i].base);
      if (crossing.size === 1 && !crossing.has(INPUT)) return [s, [...crossing][0]];
    }
    return null;
  }

  /** The plan for batch `n`; `lanes` > 0 records the split head for that many threads (see {@link ParallelHead}). */
  private build(n: number, lanes: number): BatchPlan | null {
    const split = this.splitFor(n);
    const outShape = [n, ...this.values[this.outValue].shape];
    const outV = this.values[this.outValue].base;
    if (!split || n % this.chunk !== 0) {
      const tail = this.segment(n, 0, this.ops.length, INPUT, outV);
      return tail && { head: null, par: null, chunk: n, mid: null, inSize: 0, midSize: 0, tail, outShape, outSize: sizeOf(outShape) };
    }
    const [s, midV] = split;
    const chunk = this.chunk;
    const head = this.segment(chunk, 0, s, INPUT, midV), tail = this.segment(n, s, this.ops.length, midV, outV);
    if (!head || !tail) return null;
    const midSize = chunk * sizeOf(this.values[midV].shape), inSize = chunk * sizeOf(this.inputShape);
    const mid = allocF32(n * sizeOf(this.values[midV].shape));
    // Every head step must be one call of a native op (dense goes through matmul's own planning: not recorded).
    // One lane records too: the head then runs in one native call, without a JS → native call per step and sample.
    const recordable = lanes > 0 && this.ops.slice(0, s).every((op) => op.k !== 'dense');
    const par = recordable ? this.recordHead(n / chunk, lanes, head, s, midV, inSize, mid, midSize) : null;
    return { head, par, chunk, mid, inSize, midSize, tail, outShape, outSize: sizeOf(outShape) };
  }

  /**
   * Records the head's steps (lane 0 reuses `head`, each other lane its own copy of the head's arena) for each of
   * `chunks` chunks reading `stage` and writing `mid`, or null when a copy of the head cannot be planned.
   */
  private recordHead(chunks: number, lanes: number, head: Segment, s: number, midV: number, inSize: number, mid: Float32Array, midSize: number): ParallelHead | null {
    const arenas = [head];
    for (let l = 1; l < lanes; l++) {
      const seg = this.segment(this.chunk, 0, s, INPUT, midV);
      if (!seg) return null;
      arenas.push(seg);
    }
    const steps = new native.ChunkSteps(lanes, chunks, inSize), stage = allocF32(chunks * inSize);
    try {
      for (let c = 0; c < chunks; c++)
        for (let l = 0; l < lanes; l++) {
          native.recordSteps(steps, c, l);
          const xi = stage.subarray(c * inSize, (c + 1) * inSize), mi = mid.subarray(c * midSize, (c + 1) * midSize);
          for (const step of arenas[l].steps) step(xi, mi);
        }
    } finally {
      native.recordSteps(null, 0, 0);
    }
    return { steps, stage, arenas };
  }

  /** Steps [from, to) for `n` samples, reading value `inV` (the run's x) and writing `outV` (the run's out). */
  private segment(n: number, from: number, to: number, inV: number, outV: number): Segment | null {
    const { values } = this;
    const ops = this.ops.slice(from, to);
    const out = outV;
    // Storage: one per base value made in the segment other than its output (which comes with each run).
    const slot = new Array<number>(values.length).fill(-1);
    const sizes: number[] = [];
    for (const op of ops) {
      const b = values[op.out].base;
      if (b !== out && slot[b] < 0) {
        slot[b] = sizes.length;
        sizes.push(Math.ceil((n * sizeOf(values[b].shape)) / ALIGN) * ALIGN);
      }
    }
    const first = new Array<number>(sizes.length).fill(-1), last = new Array<number>(sizes.length).fill(-1);
    ops.forEach((op, t) => {
      const s = slot[values[op.out].base];
      if (s >= 0 && first[s] < 0) first[s] = t;
      for (const i of reads(op)) {
        const r = slot[values[i].base];
        if (r >= 0) last[r] = Math.max(last[r], t);
      }
    });
    for (let s = 0; s < sizes.length; s++) if (last[s] < 0) last[s] = first[s];
    const { offset, total } = layout(sizes, first, last, ops.length);
    const arena = allocF32(Math.max(total, 1));
    // A value's array for this run: the input, the output, or its arena slice.
    const arr = (i: number): ((x: Float32Array, o: Float32Array) => Float32Array) | Float32Array => {
      const b = values[i].base;
      if (b === inV) return (x) => x;
      if (b === out) return (_x, o) => o;
      if (slot[b] < 0) throw new Error(`${PLAN_KERNEL}: value ${b} is read outside the segment that makes it`);
      return arena.subarray(offset[slot[b]], offset[slot[b]] + n * sizeOf(values[b].shape));
    };
    const get = (a: ReturnType<typeof arr>, x: Float32Array, o: Float32Array) => (typeof a === 'function' ? a(x, o) : a);
    const shape = (i: number) => [n, ...values[i].shape];
    const steps: Segment['steps'] = [];
    for (const op of ops) {
      const X = arr(op.x), O = arr(op.out);
      const size = n * sizeOf(values[op.out].shape);
      switch (op.k) {
        case 'conv': {
          const c = op.conv;
          const info = convGeometry(this.tf, shape(op.x), c.filter.shape, c.attrs, c.depthwise);
          if (!info || info.outShape.some((d, i) => d !== shape(op.out)[i])) return null;
          const act: ConvActivation = c.activation === 'linear' ? 'none' : c.activation;
          const { W, bias, packed } = this.weightsOf(op);
          // Placeholder arrays of the right sizes: the plan validates geometry once, the steps pass the real arrays.
          const xs = new Float32Array(sizeOf(shape(op.x))), os = new Float32Array(size);
          const fields = windowFields(info, bias, act, os);
          if (c.depthwise) {
            const pd = planDepthwise('optimizeLayersModel', view(xs, shape(op.x)), view(W, c.filter.shape), { layout: 'nhwc', weightLayout: 'hwcm', ...fields });
            const { params, bias: pb, actA, actB } = pd;
            steps.push((x, o) => native.depthwiseConv2d(get(X, x, o), W, pb, get(O, x, o), params, actA, actB));
          } else {
            const R = op.residual >= 0 ? arr(op.residual) : null;
            const pc = planConv('optimizeLayersModel', view(xs, shape(op.x)), packed, { layout: 'nhwc', ...fields, residual: R ? view(new Float32Array(size), shape(op.out)) : undefined }, false);
            const { geom, bias: pb, act: pa } = pc;
            steps.push((x, o) => native.conv2d(get(X, x, o), packed.handle, geom, get(O, x, o), pb, R ? get(R, x, o) : null, pa[0], pa[1], pa[2]));
          }
          break;
        }
        case 'add': {
          const B = arr(op.b);
          steps.push((x, o) => native.binary(0, get(X, x, o), get(B, x, o), get(O, x, o), size)); // 0: BinaryOp add
          break;
        }
        case 'clip':
          steps.push((x, o) => native.unary(0, get(X, x, o), get(O, x, o), size, 0, op.hi)); // 0: UnaryOp clip
          break;
        case 'gap': {
          const os = values[op.out].shape, c = os[os.length - 1];
          const hw = sizeOf(values[op.x].shape) / c;
          const params = Int32Array.of(1, 1, n, c, hw); // average, NHWC
          steps.push((x, o) => native.globalPool(get(X, x, o), get(O, x, o), params));
          break;
        }
        case 'dense': {
          const k = sizeOf(values[op.x].shape), m = sizeOf(values[op.out].shape);
          const bias = op.bias ? view(op.bias, [m]) : null;
          const opts = { bias, activation: op.relu ? ('relu' as const) : undefined };
          steps.push((x, o) => void matmul(view(get(X, x, o), [n, k]), op.w, { ...opts, out: view(get(O, x, o), [n, m]) }));
          break;
        }
        case 'softmax': {
          const m = sizeOf(values[op.out].shape);
          steps.push((x, o) => native.softmax(false, get(X, x, o), get(O, x, o), n, m));
          break;
        }
      }
    }
    return { steps };
  }

  /**
   * Per-step timing for profiling (bench/tfjs-profile.ts --steps): while set, each step of a run reports its index
   * in {@link describeSteps} and its duration (ms).
   */
  onStep: ((step: number, ms: number) => void) | null = null;

  /**
   * Head / tail timing for profiling (bench/tfjs-threads.ts --steps): while set, each run reports the wall time (ms)
   * of its split head (`head` true; all chunks) and of the rest.
   */
  onSegment: ((head: boolean, ms: number) => void) | null = null;

  /** One line per step: kind, filter shape and strides of a conv, '+res' for a fused residual, output shape. */
  describeSteps(): string[] {
    return this.ops.map((op) => {
      const c = op.k === 'conv' ? op.conv : null;
      const what = c ? `${c.depthwise ? 'depthwise' : 'conv'} ${c.filter.shape.join('x')} s${String(c.attrs.strides)}${op.k === 'conv' && op.residual >= 0 ? ' +res' : ''}` : op.k;
      return `${what} -> ${this.values[op.out].shape.join('x')}`;
    });
  }

  /** Runs segment `seg` (step indices from `from`), timing each step when {@link onStep} is set. */
  private runSteps(seg: Segment, from: number, x: Float32Array, out: Float32Array): void {
    const on = this.onStep;
    if (!on) {
      for (const s of seg.steps) s(x, out);
      return;
    }
    seg.steps.forEach((s, i) => {
      const t0 = performance.now();
      s(x, out);
      on(from + i, performance.now() - t0);
    });
  }

  /** The plan kernel's body: runs every step on the input's data into a fresh (recycled) output. */
  run(args: KernelArgs): ReturnType<NativeKernel> {
    const { x } = args.inputs;
    const X = f32Data(args.backend, x);
    if (!X || !this.accepts(x!.shape)) return null;
    const p = this.planFor(x!.shape[0]);
    if (!p) return null;
    const out = allocOut(p.outSize);
    const t0 = this.onSegment ? performance.now() : 0;
    if (p.head && p.mid) {
      const n = x!.shape[0];
      // Per-step timing needs the steps one by one: the recorded head runs them inside one native call.
      if (p.par && !this.onStep) native.runSteps(p.par.steps, X.subarray(0, p.par.stage.length), p.par.stage);
      else
        for (let i = 0; i < n; i += p.chunk) {
          const xi = X.subarray((i / p.chunk) * p.inSize, (i / p.chunk + 1) * p.inSize), mi = p.mid.subarray((i / p.chunk) * p.midSize, (i / p.chunk + 1) * p.midSize);
          this.runSteps(p.head, 0, xi, mi);
        }
      const t1 = this.onSegment ? performance.now() : 0;
      this.onSegment?.(true, t1 - t0);
      this.runSteps(p.tail, p.head.steps.length, p.mid, out);
      this.onSegment?.(false, performance.now() - t1);
    } else {
      this.runSteps(p.tail, 0, X, out);
      this.onSegment?.(false, performance.now() - t0);
    }
    return output(args.backend, p.outShape, out);
  }
}

/** Value ids a step reads. */
function reads(op: Op): number[] {
  if (op.k === 'add') return [op.x, op.b];
  if (op.k === 'conv' && op.residual >= 0) return [op.x, op.residual];
  return [op.x];
}

const cls = (l: Any): string => (l && typeof l.getClassName === 'function' ? l.getClassName() : '');

/**
 * Compiles a folded model (one input, one output, every layer one the plan covers), or returns null and the model
 * keeps tfjs-layers' per-layer path. `folded` gives each folded conv; `absorbed` says which layers the fold made
 * identities (their output is their input).
 */
export function compileLayersModel(tf: TfCore, model: Any, folded: (l: Any) => FoldedConv | undefined, absorbed: (l: Any) => boolean): CompiledModel | null {
  if (model.inputs?.length !== 1 || model.outputs?.length !== 1 || model.inputLayers?.length !== 1 || model.outputLayers?.length !== 1) return null;
  const inShape: (number | null)[] = model.inputs[0].shape;
  if (inShape.length < 2 || inShape.slice(1).some((d) => !(typeof d === 'number' && d > 0))) return null;
  const values: Value[] = [{ shape: inShape.slice(1) as number[], base: INPUT }];
  const ops: Op[] = [];
  const valueOf = new Map<Any, number>();
  const newValue = (l: Any, base?: number): number => {
    const shape: (number | null)[] = l.outputShape;
    if (!Array.isArray(shape) || shape.slice(1).some((d) => !(typeof d === 'number' && d > 0))) throw new Error('shape');
    const id = values.length;
    values.push({ shape: shape.slice(1) as number[], base: base ?? id });
    valueOf.set(l, id);
    return id;
  };
  const depths = Object.keys(model.nodesByDepth ?? {}).map(Number).sort((a, b) => b - a);
  try {
    for (const d of depths)
      for (const node of model.nodesByDepth[d]) {
        const l = node.outboundLayer;
        if (valueOf.has(l)) return null; // a layer used twice (shared weights): not covered
        const c = cls(l);
        if (c === 'InputLayer') {
          if (l !== model.inputLayers[0]) return null;
          valueOf.set(l, INPUT);
          continue;
        }
        if (l.inboundNodes?.length !== 1 || !Array.isArray(l.outputShape) || Array.isArray(l.outputShape[0])) return null;
        const ins: number[] = node.inboundLayers.map((p: Any) => valueOf.get(p));
        if (ins.some((i) => i === undefined) || ins.length === 0) return null;
        const x = ins[0];
        const fc = folded(l);
        if (fc) {
          if (ins.length !== 1) return null;
          ops.push({ k: 'conv', x, out: newValue(l), conv: fc, residual: -1 });
        } else if (absorbed(l)) {
          // The fold made it an identity: its value is its input (an absorbed padding's own shape is the padded one).
          valueOf.set(l, values.length);
          values.push({ shape: values[x].shape, base: values[x].base });
        } else if (c === 'Dropout' || (c === 'Flatten' && (l.dataFormat ?? 'channelsLast') === 'channelsLast') || c === 'Reshape') {
          newValue(l, values[x].base);
          if (sizeOf(values[valueOf.get(l)!].shape) !== sizeOf(values[x].shape)) return null;
        } else if (c === 'Add') {
          if (ins.some((i) => values[i].shape.join() !== values[x].shape.join())) return null;
          let acc = ins[0];
          for (let i = 1; i < ins.length; i++) {
            const out = newValue(l);
            ops.push({ k: 'add', x: acc, b: ins[i], out });
            acc = out;
          }
        } else if (c === 'ReLU' && (l.maxValue == null || l.maxValue > 0) && !l.negativeSlope && !l.threshold) {
          ops.push({ k: 'clip', x, out: newValue(l), hi: l.maxValue ?? Infinity });
        } else if (c === 'Activation' && ['relu', 'relu6'].includes(cls(l.activation).toLowerCase())) {
          ops.push({ k: 'clip', x, out: newValue(l), hi: clipHi(cls(l.activation).toLowerCase() as 'relu') });
        } else if ((c === 'GlobalAveragePooling2D' || c === 'AveragePooling2D') && (l.dataFormat ?? 'channelsLast') === 'channelsLast') {
          const s = values[x].shape;
          if (s.length !== 3) return null;
          if (c === 'AveragePooling2D' && (l.poolSize?.[0] !== s[0] || l.poolSize?.[1] !== s[1] || l.padding !== 'valid')) return null;
          ops.push({ k: 'gap', x, out: newValue(l) });
        } else if (c === 'Dense') {
          const act = cls(l.activation).toLowerCase();
          const s = values[x].shape;
          if (s.length !== 1 || !['linear', 'relu', 'softmax'].includes(act) || !l.kernel) return null;
          const kernel = l.kernel.read();
          const [k, m] = kernel.shape as number[];
          if (k !== s[0]) return null;
          const w = packWeights(view(Float32Array.from(kernel.dataSync() as Float32Array), [k, m]), { layout: 'kn' }) as PackedWeights;
          const bias = l.bias ? Float32Array.from(l.bias.read().dataSync() as Float32Array) : null;
          if (act === 'softmax') {
            const pre = values.length;
            values.push({ shape: [m], base: pre });
            ops.push({ k: 'dense', x, out: pre, w, bias, relu: false });
            ops.push({ k: 'softmax', x: pre, out: newValue(l) });
          } else ops.push({ k: 'dense', x, out: newValue(l), w, bias, relu: act === 'relu' });
        } else return null;
      }
  } catch {
    return null; // a layer without a static output shape
  }
  const outValue = valueOf.get(model.outputLayers[0]);
  if (outValue === undefined || values[outValue].base === INPUT) return null;
  fuseResiduals(values, ops, outValue);
  return new CompiledModel(tf, values[INPUT].shape, values, ops, outValue);
}

/**
 * A two-input Add whose one side is a groups-1 conv's output (linear activation, read by nothing else) runs in
 * that conv's epilogue (bias → residual), when the other side is computed before the conv: the Add's output is
 * then the conv's.
 */
function fuseResiduals(values: Value[], ops: Op[], outValue: number): void {
  const readers = new Map<number, number>();
  const note = (v: number) => readers.set(values[v].base, (readers.get(values[v].base) ?? 0) + 1);
  for (const op of ops) reads(op).forEach(note);
  note(outValue);
  const producer = new Map<number, number>();
  ops.forEach((op, t) => producer.set(op.out, t));
  for (let t = ops.length - 1; t >= 0; t--) {
    const add = ops[t];
    if (add.k !== 'add') continue;
    for (const [mine, other] of [
      [add.x, add.b],
      [add.b, add.x],
    ]) {
      const ct = producer.get(values[mine].base);
      const conv = ct === undefined ? undefined : ops[ct];
      if (!conv || conv.k !== 'conv' || conv.conv.depthwise || conv.conv.activation !== 'linear' || conv.residual >= 0) continue;
      if (readers.get(values[mine].base) !== 1) continue;
      const ot = producer.get(values[other].base);
      if (values[other].base !== INPUT && (ot === undefined || ot >= ct!)) continue;
      if (values[other].base === values[mine].base) continue;
      conv.residual = other;
      // The Add's output becomes the conv's (same shape, same storage); later readers follow the base.
      values[add.out].base = values[conv.out].base;
      for (const v of values) if (v.base === add.out) v.base = values[conv.out].base;
      ops.splice(t, 1);
      break;
    }
  }
}
