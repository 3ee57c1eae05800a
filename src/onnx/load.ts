/**
 * Reads an ONNX file (protobuf, optionally with external-data files) into the runtime's {@link Graph}.
 * @module
 */
import { readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, resolve, isAbsolute, sep } from 'node:path';
import { createRequire } from 'node:module';
import { describe, rangeError, typeError } from '../errors.js';
import type { AttrValue, Graph, IOInfo, Node } from './graph.js';
import { mk, ONNX_DTYPES, ONNX_TYPE_NAMES, obytes, type ODType, type Value } from './value.js';

const require = createRequire(import.meta.url);
/** The onnx-proto package's generated protobufjs classes (CommonJS). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const onnxProto: any = (require('onnx-proto') as { onnx: unknown }).onnx;

const FN = 'loadOnnx';

/** A protobufjs int64 (Long) or number as a JS number. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  if (typeof v === 'string') return Number(v);
  return 0;
}

/** Reads the bytes of an external-data tensor. */
function externalBytes(t: Record<string, unknown>, baseDir: string | null): Uint8Array {
  const entries = (t.externalData as { key: string; value: string }[]) ?? [];
  const kv: Record<string, string> = {};
  for (const e of entries) kv[e.key] = e.value;
  const name = String(t.name ?? '');
  if (!kv.location) throw rangeError(FN, `initializer '${name}' stores its data externally but names no location`);
  if (baseDir === null) throw typeError(FN, `initializer '${name}' stores its data in external file '${kv.location}': load the model from a path (or pass opts.baseDir)`);
  if (isAbsolute(kv.location) || kv.location.split(/[\\/]/).includes('..'))
    throw rangeError(FN, `initializer '${name}': external data location '${kv.location}' must be a relative path inside the model's directory`);
  const file = resolve(baseDir, kv.location);
  if (!file.startsWith(resolve(baseDir) + sep)) throw rangeError(FN, `initializer '${name}': external data location '${kv.location}' leaves the model's directory`);
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw rangeError(FN, `initializer '${name}': cannot read external data file '${file}' (${(e as Error).message})`);
  }
  const offset = kv.offset ? Number(kv.offset) : 0;
  const length = kv.length ? Number(kv.length) : size - offset;
  if (!(offset >= 0 && length >= 0 && offset + length <= size))
    throw rangeError(FN, `initializer '${name}': external data [${offset}, ${offset + length}) is outside '${kv.location}' (${size} bytes)`);
  const buf = new Uint8Array(length);
  const fd = openSync(file, 'r');
  try {
    let got = 0;
    while (got < length) {
      const r = readSync(fd, buf, got, length - got, offset + got);
      if (r <= 0) break;
      got += r;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** Decodes a TensorProto into a runtime value. */
export function tensorFromProto(t: Record<string, unknown>, baseDir: string | null, allowHalf = false): Value {
  const name = String(t.name ?? '');
  const code = Number(t.dataType ?? 0);
  // float16/bfloat16 weights (stored half size, read through a Cast to float) widen to float32 at load.
  const dtype = allowHalf && (code === 10 || code === 16) ? 'float32' : ONNX_DTYPES[code];
  if (!dtype) throw typeError(FN, `tensor '${name}' has element type ${ONNX_TYPE_NAMES[code] ?? code}, which this runtime does not support (float32, float64, int64, int32, int8, uint8, bool)`);
  const dims = ((t.dims as unknown[]) ?? []).map(num);
  for (const d of dims) if (!(Number.isInteger(d) && d >= 0)) throw rangeError(FN, `tensor '${name}' has invalid dims [${dims.join(', ')}]`);
  const n = dims.reduce((a, b) => a * b, 1);
  let raw: Uint8Array | null = null;
  if (Number(t.dataLocation ?? 0) === 1) raw = externalBytes(t, baseDir);
  else if (t.rawData && (t.rawData as Uint8Array).length > 0) raw = t.rawData as Uint8Array;
  const v = mk(dtype, dims);
  if (raw) {
    const src = code === 7 ? 8 : code === 9 ? 1 : code === 10 || code === 16 ? 2 : obytes(dtype);
    if (raw.length !== n * src) throw rangeError(FN, `tensor '${name}' (${dtype} [${dims.join(', ')}]) needs ${n * src} bytes of raw data, has ${raw.length}`);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const d = v.data;
    switch (code) {
      case 1: for (let i = 0; i < n; i++) d[i] = dv.getFloat32(i * 4, true); break;
      case 11: for (let i = 0; i < n; i++) d[i] = dv.getFloat64(i * 8, true); break;
      case 7: for (let i = 0; i < n; i++) d[i] = Number(dv.getBigInt64(i * 8, true)); break;
      case 6: for (let i = 0; i < n; i++) d[i] = dv.getInt32(i * 4, true); break;
      case 3: for (let i = 0; i < n; i++) d[i] = dv.getInt8(i); break;
      case 10: for (let i = 0; i < n; i++) d[i] = halfToFloat(dv.getUint16(i * 2, true)); break;
      case 16: for (let i = 0; i < n; i++) d[i] = bf16ToFloat(dv.getUint16(i * 2, true)); break;
      default: (d as Uint8Array).set(raw); break;
    }
    return v;
  }
  // Typed fields: float_data (float), int32_data (int32/int8/uint8/bool/...), int64_data, double_data.
  const field = code === 1 ? t.floatData : code === 7 ? t.int64Data : code === 11 ? t.doubleData : t.int32Data;
  const arr = (field as unknown[]) ?? [];
  if (arr.length !== n) throw rangeError(FN, `tensor '${name}' (${dtype} [${dims.join(', ')}]) has ${arr.length} values, needs ${n}`);
  if (code === 10 || code === 16) for (let i = 0; i < n; i++) v.data[i] = (code === 10 ? halfToFloat : bf16ToFloat)(num(arr[i]));
  else for (let i = 0; i < n; i++) v.data[i] = num(arr[i]);
  return v;
}

const f32bits = new Float32Array(1);
const u32bits = new Uint32Array(f32bits.buffer);
/** IEEE binary16 bits → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
/** bfloat16 bits → number. */
export function bf16ToFloat(h: number): number {
  u32bits[0] = (h & 0xffff) << 16;
  return f32bits[0];
}

function attrFromProto(a: Record<string, unknown>, baseDir: string | null, where: string): AttrValue {
  switch (Number(a.type ?? 0)) {
    case 1: return Number(a.f ?? 0);
    case 2: return num(a.i);
    case 3: return Buffer.from((a.s as Uint8Array) ?? new Uint8Array()).toString('utf8');
    case 4: return tensorFromProto(a.t as Record<string, unknown>, baseDir);
    case 6: return ((a.floats as number[]) ?? []).map(Number);
    case 7: return ((a.ints as unknown[]) ?? []).map(num);
    case 8: return ((a.strings as Uint8Array[]) ?? []).map((s) => Buffer.from(s).toString('utf8'));
    case 9: return ((a.tensors as Record<string, unknown>[]) ?? []).map((t) => tensorFromProto(t, baseDir));
    default: throw typeError(FN, `${where}: attribute '${a.name}' has type ${a.type}, which this runtime does not support (graphs, sparse tensors)`);
  }
}

function ioFromProto(v: Record<string, unknown>): IOInfo {
  const name = String(v.name ?? '');
  const tt = (v.type as { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: unknown; dimParam?: string }[] } } } | null)?.tensorType;
  if (!tt) return { name, dtype: 'unknown', dims: null };
  const code = Number(tt.elemType ?? 0);
  const dims = tt.shape
    ? (tt.shape.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0 ? num(d.dimValue) : null))
    : null;
  return { name, dtype: ONNX_DTYPES[code] ?? ONNX_TYPE_NAMES[code] ?? `type ${code}`, dims };
}

/** Parses model bytes into a Graph. `baseDir` resolves external-data files (null: none allowed). */
export function parseModel(bytes: Uint8Array, baseDir: string | null): Graph {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let m: any;
  try {
    m = onnxProto.ModelProto.decode(bytes);
  } catch (e) {
    throw rangeError(FN, `not a valid ONNX file: protobuf decoding failed (${(e as Error).message})`);
  }
  const g = m.graph;
  if (!g || !Array.isArray(g.node)) throw rangeError(FN, 'not a valid ONNX file: the model has no graph');
  const opset = new Map<string, number>();
  for (const o of m.opsetImport ?? []) opset.set(o.domain === 'ai.onnx' ? '' : String(o.domain ?? ''), num(o.version));
  if (!opset.has('')) opset.set('', 1);
  const consts = new Map<string, Value>();
  const half = new Set<string>();
  for (const t of g.initializer ?? []) {
    if (Number(t.dataType) === 10 || Number(t.dataType) === 16) half.add(String(t.name));
    consts.set(String(t.name), tensorFromProto(t, baseDir, true));
  }
  if ((g.sparseInitializer ?? []).length > 0) throw typeError(FN, 'sparse initializers are not supported');
  const nodes: Node[] = (g.node as Record<string, unknown>[]).map((n, i) => {
    const op = String(n.opType ?? '');
    const name = n.name ? String(n.name) : `${op}_${i}`;
    const attrs: Record<string, AttrValue> = {};
    for (const a of (n.attribute as Record<string, unknown>[]) ?? []) attrs[String(a.name)] = attrFromProto(a, baseDir, `node '${name}' (${op})`);
    const domain = n.domain === 'ai.onnx' ? '' : String(n.domain ?? '');
    return { op, domain, name, inputs: ((n.input as string[]) ?? []).map(String), outputs: ((n.output as string[]) ?? []).map(String), attrs };
  });
  // A half initializer is only accepted where its value is cast to float (what convertModel writes).
  for (const n of nodes)
    n.inputs.forEach((i, k) => {
      if (half.has(i) && !(n.op === 'Cast' && n.domain === '' && k === 0 && n.attrs.to === 1))
        throw typeError(FN, `tensor '${i}' has element type ${ONNX_TYPE_NAMES[Number((g.initializer as { name: string; dataType: number }[]).find((t) => t.name === i)!.dataType)]}, which this runtime supports only as the input of a Cast to float (node '${n.name}' (${n.op}) reads it)`);
    });
  const inputs = ((g.input as Record<string, unknown>[]) ?? []).map(ioFromProto).filter((i) => !consts.has(i.name));
  const outputs = ((g.output as Record<string, unknown>[]) ?? []).map(ioFromProto);
  if (outputs.length === 0) throw rangeError(FN, 'the graph declares no outputs');
  const metadata = new Map<string, string>();
  for (const e of (m.metadataProps as { key?: string; value?: string }[]) ?? []) if (e.key) metadata.set(String(e.key), String(e.value ?? ''));
  return { nodes, consts, inputs, outputs, opset, metadata };
}

/** A model's file bytes and the directory its external data is resolved in (kept by OnnxModel for export). */
export interface ModelSource {
  bytes: Uint8Array;
  baseDir: string | null;
}

/** Reads a model's bytes from a path or bytes. */
export function readSource(src: unknown, baseDir?: string): ModelSource {
  if (baseDir !== undefined && (typeof baseDir !== 'string' || baseDir === '')) throw typeError(FN, `opts.baseDir must be a directory path, got ${describe(baseDir)}`);
  if (typeof src === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(src);
    } catch (e) {
      throw rangeError(FN, `cannot read '${src}' (${(e as Error).message})`);
    }
    return { bytes, baseDir: baseDir ?? dirname(resolve(src)) };
  }
  if (src instanceof Uint8Array) return { bytes: src, baseDir: baseDir ?? null };
  if (src instanceof ArrayBuffer) return { bytes: new Uint8Array(src), baseDir: baseDir ?? null };
  throw typeError(FN, `pathOrBytes must be a file path, a Uint8Array/Buffer or an ArrayBuffer, got ${describe(src)}`);
}

/** Reads a model from a path or bytes. */
export function readModel(src: unknown, baseDir?: string): Graph {
  const s = readSource(src, baseDir);
  return parseModel(s.bytes, s.baseDir);
}

/** Is `d` a runtime dtype. */
export function isODType(d: string): d is ODType {
  return Object.values(ONNX_DTYPES).includes(d as ODType);
}
