/**
 * Helpers shared by the load-time graph passes (optimize-*.ts): constant lookup, single-consumer and other-operand
 * queries, and reading a conv node's geometry and a following activation as conv2d options.
 * @module
 */
import type { Conv2dOptions, ConvTranspose2dOptions } from '../conv/conv2d.js';
import { attrFloat, attrInts, attrStr, type Graph, type Node } from './graph.js';
import type { Value } from './value.js';

/** A graph pass: rewrites `g` in place and returns how many rewrites it made. */
export type Pass = (g: Graph) => number;

/** The constant named `name` in `g`, if any. */
export const constOf = (g: Graph, name: string | undefined): Value | undefined => (name ? g.consts.get(name) : undefined);

/** The one node consuming `name` (null when none, several, or a graph output). */
export function only(cons: Map<string, (Node | null)[]>, name: string): Node | null {
  const l = cons.get(name);
  return l && l.length === 1 && l[0] ? l[0] : null;
}

/** The input of binary node `n` that is not `name`. */
export const otherInput = (n: Node, name: string) => (n.inputs[0] === name ? n.inputs[1] : n.inputs[0]);

/** Clip's bounds (attributes before opset 11, constant inputs after), or null when they are not constant. */
export function clipBounds(g: Graph, n: Node): [number, number] | null {
  if ((g.opset.get('') ?? 1) < 11) return [attrFloat(n, 'min', -3.4028234663852886e38), attrFloat(n, 'max', 3.4028234663852886e38)];
  const lo = n.inputs[1] ? constOf(g, n.inputs[1]) : undefined, hi = n.inputs[2] ? constOf(g, n.inputs[2]) : undefined;
  if ((n.inputs[1] && !lo) || (n.inputs[2] && !hi) || (lo && lo.size !== 1) || (hi && hi.size !== 1)) return null;
  return [lo ? lo.data[0] : -Infinity, hi ? hi.data[0] : Infinity];
}

/** A following activation node → the conv family's fused activation options, or null. */
export function activationOf(g: Graph, a: Node): Partial<Conv2dOptions> | null {
  if (a.domain !== '') return null;
  switch (a.op) {
    case 'Relu': return { activation: 'relu' };
    case 'Sigmoid': return { activation: 'sigmoid' };
    case 'HardSwish': return { activation: 'hardSwish' };
    case 'HardSigmoid': return { activation: 'hardSigmoid', alpha: Math.fround(attrFloat(a, 'alpha', 0.2)), beta: Math.fround(attrFloat(a, 'beta', 0.5)) };
    case 'LeakyRelu': return { activation: 'leakyRelu', alpha: Math.fround(attrFloat(a, 'alpha', 0.01)) };
    case 'Clip': {
      const b = clipBounds(g, a);
      if (!b) return null;
      const lo = b[0] <= -3.4028234663852886e38 ? -Infinity : b[0], hi = b[1] >= 3.4028234663852886e38 ? Infinity : b[1];
      if (lo === 0 && hi === Infinity) return { activation: 'relu' };
      if (lo === 0 && hi === 6) return { activation: 'relu6' };
      return { activation: 'clip', clipMin: lo, clipMax: hi };
    }
  }
  return null;
}

/** Which depthwise activations the depthwise kernels take (a flat clip needs finite bounds). */
export const dwOk = (o: Partial<Conv2dOptions>) => o.activation !== 'clip' || (Number.isFinite(o.clipMin) && Number.isFinite(o.clipMax));

/** Strides/dilations/pads/outputPadding of a 1-D or 2-D (transposed) conv node as conv2d options (null when the
 * node is malformed); the int8 conv fusion reads it too. */
export function geometry(n: Node, rank: number, transposed: boolean): ConvTranspose2dOptions | null {
  const s = rank - 2;
  const pair = (name: string, d: number): [number, number] | null => {
    const v = attrInts(n, name);
    if (!v) return [d, d];
    if (v.length !== s) return null;
    return s === 1 ? [d === 0 ? 0 : 1, v[0]] : [v[0], v[1]];
  };
  const strides = pair('strides', 1), dilations = pair('dilations', 1);
  if (!strides || !dilations) return null;
  const auto = attrStr(n, 'auto_pad', 'NOTSET');
  let pads: Conv2dOptions['pads'];
  if (auto === 'SAME_UPPER') pads = 'same_upper';
  else if (auto === 'SAME_LOWER') pads = 'same_lower';
  else if (auto === 'VALID') pads = 'valid';
  else if (auto === 'NOTSET') {
    const p = attrInts(n, 'pads');
    if (p && p.length !== 2 * s) return null;
    pads = !p ? [0, 0, 0, 0] : s === 1 ? [0, p[0], 0, p[1]] : [p[0], p[1], p[2], p[3]];
  } else return null;
  const o: ConvTranspose2dOptions = { strides, dilations, pads };
  if (transposed) {
    const op = pair('output_padding', 0);
    if (!op) return null;
    o.outputPadding = op;
  }
  return o;
}
