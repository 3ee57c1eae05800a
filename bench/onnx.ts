/**
 * Builds small ONNX models in code (a minimal protobuf writer for the few ONNX messages the benchmark needs), so
 * onnxruntime-node can run MatMul, MatMulInteger, DynamicQuantizeLinear and the MLP without model files or extra
 * dependencies. Field numbers follow onnx/onnx.proto (IR version 8).
 * @module
 */

/** ONNX TensorProto.DataType codes used here. */
export const OnnxType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, BFLOAT16: 16 } as const;
/** One of {@link OnnxType}. */
export type OnnxTypeCode = (typeof OnnxType)[keyof typeof OnnxType];

/**
 * Protobuf writer: varints, fixed32 and length-delimited fields, nothing else (ONNX needs no more). Nested messages
 * are kept as parts and written once by `finish`, so a large initializer is copied a single time.
 */
class Pb {
  private parts: (Uint8Array | Pb)[] = [];
  /** Encoded length so far. */
  len = 0;
  private push(b: Uint8Array | Pb): void {
    this.parts.push(b);
    this.len += b instanceof Pb ? b.len : b.length;
  }
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      out.push(byte);
    } while (x !== 0n);
    this.push(Uint8Array.from(out));
  }
  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Pb): this {
    this.key(field, 2);
    this.varint(m.len);
    this.push(m);
    return this;
  }
  private writeTo(out: Uint8Array, o: number): number {
    for (const p of this.parts) {
      if (p instanceof Pb) o = p.writeTo(out, o);
      else {
        out.set(p, o);
        o += p.length;
      }
    }
    return o;
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    this.writeTo(out, 0);
    return out;
  }
}

/** A constant tensor stored in the model (an initializer). */
export interface OnnxInitializer {
  name: string;
  type: OnnxTypeCode;
  dims: number[];
  /** Raw little-endian element bytes. */
  data: ArrayBufferView;
}

/** A graph input or output: name, element type, dims (a string is a symbolic dimension). */
export interface OnnxValue {
  name: string;
  type: OnnxTypeCode;
  dims: (number | string)[];
}

/** An attribute value: an int, `{ float }`, `{ ints }` (a list), or `{ str }`. */
export type OnnxAttr = number | number[] | { float: number } | { ints: number[] } | { str: string };

/** A node: op type, inputs (an empty name skips an optional input), outputs, optional domain and attributes. */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attrs?: Record<string, OnnxAttr>;
}

/** A whole graph. */
export interface OnnxGraph {
  nodes: OnnxNode[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  initializers: OnnxInitializer[];
  /** Default opset 17. */
  opset?: number;
}

function tensorProto(t: OnnxInitializer): Pb {
  const m = new Pb();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.type);
  m.str(8, t.name);
  m.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return m;
}

function valueInfo(v: OnnxValue): Pb {
  const shape = new Pb();
  for (const d of v.dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  const tensorType = new Pb().int(1, v.type).msg(2, shape);
  return new Pb().str(1, v.name).msg(2, new Pb().msg(1, tensorType));
}

function nodeProto(n: OnnxNode, i: number): Pb {
  const m = new Pb();
  for (const s of n.inputs) m.str(1, s);
  for (const s of n.outputs) m.str(2, s);
  m.str(3, `${n.op}_${i}`);
  m.str(4, n.op);
  for (const [name, v] of Object.entries(n.attrs ?? {})) {
    const a = new Pb().str(1, name);
    if (typeof v === 'number') a.int(3, v).int(20, 2);
    else if (Array.isArray(v)) {
      for (const x of v) a.int(8, x);
      a.int(20, 7);
    } else if ('float' in v) a.float(2, v.float).int(20, 1);
    else if ('ints' in v) {
      for (const i of v.ints) a.int(8, i);
      a.int(20, 7);
    } else a.str(4, v.str).int(20, 3);
    m.msg(5, a);
  }
  if (n.domain) m.str(7, n.domain);
  return m;
}

/** Serialises a graph into ONNX model bytes (IR 8, default opset 17, plus com.microsoft 1 when used). */
export function onnxModel(g: OnnxGraph): Uint8Array {
  const graph = new Pb();
  g.nodes.forEach((n, i) => graph.msg(1, nodeProto(n, i)));
  graph.str(2, 'simdtensor_bench');
  for (const t of g.initializers) graph.msg(5, tensorProto(t));
  for (const v of g.inputs) graph.msg(11, valueInfo(v));
  for (const v of g.outputs) graph.msg(12, valueInfo(v));
  const model = new Pb().int(1, 8).str(2, 'simdtensor-bench');
  model.msg(7, graph);
  model.msg(8, new Pb().str(1, '').int(2, g.opset ?? 17));
  if (g.nodes.some((n) => n.domain === 'com.microsoft')) model.msg(8, new Pb().str(1, 'com.microsoft').int(2, 1));
  return model.finish();
}
