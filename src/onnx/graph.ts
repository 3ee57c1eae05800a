/**
 * The runtime's graph: nodes with decoded attributes, constant values, typed inputs and outputs. Built by
 * load.ts from the protobuf, rewritten by optimize.ts, executed through plan.ts.
 * @module
 */
import type { ODType, Value } from './value.js';

/** A decoded attribute value. */
export type AttrValue = number | string | number[] | string[] | Value | Value[] | null;

/** One node of the graph. Empty strings in `inputs`/`outputs` mark omitted optional slots. */
export interface Node {
  /** Operator type, e.g. 'MatMul'. */
  op: string;
  /** Operator domain: '' for the default ai.onnx domain, 'com.microsoft', or 'simdtensor' for fused nodes. */
  domain: string;
  /** Node name (generated when the file has none). */
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /** Data a fusion attached (packed weights and the like); never serialized. */
  extra?: Record<string, unknown>;
}

/** A graph input or output as the model declares it: dims are numbers, symbolic names, or null (unknown). */
export interface IOInfo {
  name: string;
  /** Runtime element type, or the ONNX type name when the runtime cannot hold it. */
  dtype: ODType | string;
  dims: (number | string | null)[] | null;
}

/** A graph the runtime executes. */
export interface Graph {
  nodes: Node[];
  /** Initializers and folded constants. */
  consts: Map<string, Value>;
  inputs: IOInfo[];
  outputs: IOInfo[];
  /** Opset version per domain ('' = ai.onnx). */
  opset: Map<string, number>;
  /** The model's metadata_props (key → value); absent for graphs built in code. */
  metadata?: Map<string, string>;
}

/** Attribute accessors with defaults (ONNX omits attributes at their default). */
export function attrInt(n: Node, name: string, def: number): number {
  const v = n.attrs[name];
  return typeof v === 'number' ? v : def;
}
export function attrFloat(n: Node, name: string, def: number): number {
  const v = n.attrs[name];
  return typeof v === 'number' ? v : def;
}
export function attrInts(n: Node, name: string): number[] | null {
  const v = n.attrs[name];
  return Array.isArray(v) ? (v as number[]) : null;
}
export function attrStr(n: Node, name: string, def: string): string {
  const v = n.attrs[name];
  return typeof v === 'string' ? v : def;
}

/** Map from value name to the nodes reading it (graph outputs count as a reader named by `null`). */
export function consumers(g: Graph): Map<string, (Node | null)[]> {
  const m = new Map<string, (Node | null)[]>();
  const add = (name: string, n: Node | null) => {
    if (!name) return;
    let l = m.get(name);
    if (!l) m.set(name, (l = []));
    l.push(n);
  };
  for (const n of g.nodes) for (const i of n.inputs) add(i, n);
  for (const o of g.outputs) add(o.name, null);
  return m;
}

/** Map from value name to the node producing it. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}
