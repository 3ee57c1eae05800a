/**
 * Element types and their TypedArray storage.
 * @module
 */

/** Element type of a {@link Tensor}. float16/bfloat16 are stored as raw bits in a Uint16Array. */
export type DType = 'float32' | 'float16' | 'bfloat16' | 'int8' | 'uint8' | 'int32';

/** TypedArray that backs each dtype. */
export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float16' | 'bfloat16'
    ? Uint16Array
    : D extends 'int8'
      ? Int8Array
      : D extends 'uint8'
        ? Uint8Array
        : Int32Array;

/** Any TypedArray a tensor may hold. */
export type TensorData = Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array;

/** All dtypes, in a fixed order. */
export const DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16', 'int8', 'uint8', 'int32'];

/** Bytes per element. */
export function dtypeBytes(d: DType): number {
  switch (d) {
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
    case 'bfloat16':
      return 2;
    default:
      return 1;
  }
}

/** The TypedArray constructor for a dtype. */
export function arrayCtor(d: DType): { new (n: number): TensorData; new (b: ArrayBufferLike, o: number, n: number): TensorData; name: string } {
  switch (d) {
    case 'float32':
      return Float32Array;
    case 'float16':
    case 'bfloat16':
      return Uint16Array;
    case 'int8':
      return Int8Array;
    case 'uint8':
      return Uint8Array;
    case 'int32':
      return Int32Array;
  }
}

/** True if `d` is one of the supported dtypes. */
export function isDType(d: unknown): d is DType {
  return typeof d === 'string' && (DTYPES as readonly string[]).includes(d);
}

/** Infers a dtype from a TypedArray (Uint16Array is ambiguous and needs an explicit dtype). */
export function inferDType(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  const F16 = (globalThis as { Float16Array?: { new (...a: unknown[]): unknown } }).Float16Array;
  if (F16 && data instanceof F16) return 'float16';
  return undefined;
}
