/**
 * The common part of the packed-weight classes (f32, half and int8 GEMM weights; f32 and int8 conv weights): one
 * native handle, checked at construction, and the bytes it holds.
 * @module
 */
import { checkHandle } from './errors.js';

/** Weights packed natively once and reused on every call. */
export abstract class NativeWeights<H extends { readonly bytes: number }> {
  /** @internal */
  readonly handle: H;
  /** @internal Throws the TypeError of `cls` unless `handle` is an object with numeric `keys` (made by `factory`). */
  protected constructor(cls: string, factory: string, handle: H, keys: readonly string[]) {
    checkHandle(cls, factory, handle, keys);
    this.handle = handle;
  }
  /** Bytes held natively: the packed panels and any per-channel data. */
  get bytes(): number {
    return this.handle.bytes;
  }
}

/** GEMM weights: the right-hand operand B of shape [K, N] (for a Linear weight [out, in]: K = in, N = out). */
export abstract class NativeGemmWeights<H extends { readonly bytes: number; readonly k: number; readonly n: number }> extends NativeWeights<H> {
  /** Inner dimension (input features). */
  readonly k: number;
  /** Output columns (output features). */
  readonly n: number;
  /** @internal */
  protected constructor(cls: string, factory: string, handle: H, keys: readonly string[] = []) {
    super(cls, factory, handle, [...keys, 'k', 'n']);
    this.k = handle.k;
    this.n = handle.n;
  }
}

/** The dimensions every packed conv weight records. */
export interface ConvWeightDims {
  /** Input channels (all groups). */
  c: number;
  /** Output channels (all groups). */
  m: number;
  kh: number;
  kw: number;
  groups: number;
  /** Bias stored at pack time, or null. */
  bias: Float32Array | null;
}

/** Convolution weights packed once into GEMM panels, with an optional bias. */
export abstract class NativeConvWeights<H extends { readonly bytes: number }> extends NativeWeights<H> {
  /** Input channels (all groups). */
  readonly inChannels: number;
  /** Output channels (all groups). */
  readonly outChannels: number;
  /** Kernel height. */
  readonly kernelH: number;
  /** Kernel width. */
  readonly kernelW: number;
  /** Group count. */
  readonly groups: number;
  /** Bias stored at pack time (folded batch norm included), or null. */
  readonly bias: Float32Array | null;
  /** @internal */
  protected constructor(cls: string, factory: string, handle: H, d: ConvWeightDims) {
    super(cls, factory, handle, []);
    // The dims come with the handle from the factory: a direct constructor call gets the handle's TypeError.
    checkHandle(cls, factory, d, ['c', 'm', 'kh', 'kw', 'groups']);
    if (d.bias !== null && !(d.bias instanceof Float32Array)) checkHandle(cls, factory, null, []);
    this.inChannels = d.c;
    this.outChannels = d.m;
    this.kernelH = d.kh;
    this.kernelW = d.kw;
    this.groups = d.groups;
    this.bias = d.bias;
  }
}
