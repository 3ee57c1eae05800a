/**
 * The 'simdtensor' TensorFlow.js backend: MathBackendCPU's data storage and every CPU kernel, with our native
 * kernels registered over the ones they cover. tfjs-core and tfjs-backend-cpu are passed in (the user's copies:
 * peer dependencies, never bundled), so one registry and one engine serve both.
 * @module
 */
import type { BackendValues, DataType } from '@tensorflow/tfjs-core';
import type { KernelArgs, KernelFn, NativeKernel, TfCore, TfCpu } from './types.js';
import { noteExposed, noteFreed, noteStored } from './buffers.js';
import { STATE, WeightCache } from './weights.js';
import type { BackendState } from './weights.js';
import { nativeKernels } from './kernels.js';
import { CompiledModel, PLAN_KERNEL } from './plan.js';

/** Name the backend registers under. */
export const BACKEND_NAME = 'simdtensor';
/** Registration priority: above 'cpu' (1) and 'wasm' / 'webgl' (2), so `await tf.ready()` picks it. */
export const BACKEND_PRIORITY = 3;

/** Options of {@link registerSimdtensorBackend}. */
export interface RegisterOptions {
  /** Backend name (default 'simdtensor'). */
  name?: string;
  /** Registration priority (default 3). */
  priority?: number;
  /** Kernel names to leave to the CPU backend's kernels (e.g. to compare one kernel against the fallback). */
  exclude?: readonly string[];
  /**
   * Matmuls of fewer multiply-adds run on the CPU kernel, whose JS loop beats an N-API call there (default 1024;
   * the TF.js test suite sets 0 so that its small matrices exercise our GEMM).
   */
  minMatmulMacs?: number;
}

/** What {@link registerSimdtensorBackend} registered. */
export interface Registration {
  /** Backend name. */
  name: string;
  /** Kernels that run our native code (each declines to the CPU kernel on cases it does not cover). */
  nativeKernels: string[];
  /** Kernels registered from the CPU backend as they are. */
  fallbackKernels: string[];
}


/**
 * Registers the backend and its kernels with the given tfjs-core / tfjs-backend-cpu modules. Idempotent per
 * name: a second call returns the first registration.
 */
export function registerSimdtensorBackend(tf: TfCore, cpu: TfCpu, opts: RegisterOptions = {}): Registration {
  const name = opts.name ?? BACKEND_NAME;
  const priority = opts.priority ?? BACKEND_PRIORITY;
  const done = registered.get(name);
  if (done) {
    if (!tf.findBackendFactory(name)) tf.registerBackend(name, done.factory, priority); // after tf.removeBackend
    return done.reg;
  }
  const exclude = new Set(opts.exclude ?? []);

  class SimdtensorBackend extends cpu.MathBackendCPU {
    readonly [STATE]: BackendState = { weights: new WeightCache() };
    constructor() {
      super();
      // MathBackendCPU's first write warns "install the node backend": this is a native backend.
      (this as unknown as { firstUse: boolean }).firstUse = false;
    }
    // Output-buffer recycling (./buffers.ts) watches every store, read-out and free of tensor data.
    override write(values: BackendValues, shape: number[], dtype: DataType): object {
      noteStored(values);
      return super.write(values, shape, dtype);
    }
    override move(dataId: object, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
      noteStored(values);
      super.move(dataId, values, shape, dtype, refCount);
    }
    override readSync(dataId: object): BackendValues {
      const v = super.readSync(dataId);
      noteExposed(v);
      return v;
    }
    override disposeData(dataId: object, force = false): boolean {
      // has() first: data.get() of an unknown id would try to move it in from another backend.
      const values = this.data.has(dataId) ? this.data.get(dataId)?.values : undefined;
      const freed = super.disposeData(dataId, force);
      if (freed) {
        this[STATE].weights.drop(dataId);
        if (values !== undefined && !this.data.has(dataId)) noteFreed(values);
      }
      return freed;
    }
    override dispose(): void {
      this[STATE].weights.clear();
      super.dispose();
    }
  }

  const ours = nativeKernels(tf, opts.minMatmulMacs);
  const nat: string[] = [];
  const fb: string[] = [];
  for (const config of tf.getKernelsForBackend('cpu')) {
    const impl: NativeKernel | undefined = exclude.has(config.kernelName) ? undefined : ours[config.kernelName];
    if (impl) {
      const fallback = config.kernelFunc as unknown as KernelFn;
      const c = (counts[config.kernelName] ??= { native: 0, fallback: 0 });
      const kernelFunc: KernelFn = (args: KernelArgs) => {
        const r = impl(args);
        if (r !== null) {
          c.native++;
          return r;
        }
        c.fallback++;
        return fallback(args);
      };
      tf.registerKernel({ ...config, backendName: name, kernelFunc: kernelFunc as unknown as typeof config.kernelFunc });
      nat.push(config.kernelName);
    } else {
      tf.registerKernel({ ...config, backendName: name });
      fb.push(config.kernelName);
    }
  }
  // The compiled plan of a folded layers model (./plan.ts): the model calls it only when it can run the input.
  const planCount = (counts[PLAN_KERNEL] ??= { native: 0, fallback: 0 });
  const runPlan: KernelFn = (args: KernelArgs) => {
    const model: unknown = args.attrs?.model;
    const r = model instanceof CompiledModel ? model.run(args) : null;
    if (r === null) throw new Error(`${PLAN_KERNEL}: called with an input or model the compiled plan does not cover`);
    planCount.native++;
    return r;
  };
  tf.registerKernel({ kernelName: PLAN_KERNEL, backendName: name, kernelFunc: runPlan as unknown as Parameters<TfCore['registerKernel']>[0]['kernelFunc'] });
  nat.push(PLAN_KERNEL);
  const factory = () => new SimdtensorBackend();
  tf.registerBackend(name, factory, priority);
  const reg: Registration = { name, nativeKernels: nat.sort(), fallbackKernels: fb.sort() };
  registered.set(name, { reg, factory });
  return reg;
}

// Process-wide (a Symbol.for key on globalThis), so that two copies of this module — ESM and require(esm), or a
// bundler's copy — register the kernels once, like tfjs-core's own global registry.
const REGISTERED = Symbol.for('simdtensor.tfjs.registrations');
const counts: Record<string, { native: number; fallback: number }> = ((globalThis as unknown as Record<symbol, Record<string, { native: number; fallback: number }>>)[
  Symbol.for('simdtensor.tfjs.counts')
] ??= {});

/**
 * Calls of each native kernel since registration: `native` ran our code, `fallback` declined to the CPU kernel
 * (a dtype, broadcast or geometry case our ops do not cover).
 */
export function kernelStats(): Record<string, { native: number; fallback: number }> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, { ...v }]));
}

const registered: Map<string, { reg: Registration; factory: () => InstanceType<TfCpu['MathBackendCPU']> }> = ((
  globalThis as unknown as Record<symbol, Map<string, { reg: Registration; factory: () => InstanceType<TfCpu['MathBackendCPU']> }>>
)[REGISTERED] ??= new Map());
