/**
 * Model files: one file holding a model's configuration and weights, in the safetensors layout — an 8-byte
 * little-endian header length, a UTF-8 JSON header (padded with spaces to a multiple of 8), then the raw
 * little-endian tensors back to back. The model configuration sits in the header's `__metadata__` as a JSON string,
 * so any safetensors reader can open the tensors. Everything is validated on load (see docs/models.md).
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { DType } from '../dtype.js';
import { arrayCtor, dtypeBytes } from '../dtype.js';
import { checkMembers, describe, rangeError, typeError, options } from '../errors.js';
import { checkOpts, filePath } from './check.js';
import { PackedWeights } from '../ops/matmul.js';
import { Tensor } from '../tensor.js';
import { Dropout, GELU, InputQuant, Layer, LayerConfig, LayerNorm, Linear, Normalize, ReLU, Sequential, weightFormat } from './layers.js';

/** Format tag in `__metadata__.format`. */
export const MODEL_FORMAT = 'simdtensor.model';
/** Current format version. */
export const MODEL_VERSION = 1;
const MAX_HEADER_BYTES = 64 << 20;

const DTYPE_CODES: Record<DType, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', int8: 'I8', uint8: 'U8', int32: 'I32' };
const CODE_DTYPES: Record<string, DType> = Object.fromEntries(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k as DType]));

/**
 * How a compressed inference weight (int8, sparse, ...) is written and read back. Families register one with
 * {@link registerWeightCodec}; float32, packed float32 and float16/bfloat16 tensors are built in.
 */
export interface WeightCodec {
  /** The format name written in the layer's config (`weightFormat`). */
  format: string;
  /** True for weights this codec writes. */
  match(w: unknown): boolean;
  /** The weight's tensors (named parts) and any JSON-safe metadata. */
  encode(w: unknown): { tensors: Record<string, Tensor>; meta?: Record<string, unknown> };
  /** Rebuilds the weight of shape [out, in] from its parts; throws a clear error if they do not fit. */
  decode(tensors: Record<string, Tensor>, meta: Record<string, unknown>, shape: [number, number]): unknown;
  /** The form inference runs on (e.g. packed), if not the decoded weight itself. */
  pack?(w: unknown): unknown;
  /** Rebuilds a layer's static input quantization (formats that have one). */
  inputQuant?(p: { dtype: 'int8' | 'uint8'; scale: number; zeroPoint: number }): InputQuant;
}

const codecs: WeightCodec[] = [];

/** Registers a codec for a compressed weight format (newest first). */
export function registerWeightCodec(codec: WeightCodec): void {
  checkMembers('registerWeightCodec', 'codec', codec, {
    format: 'string', match: 'function', encode: 'function', decode: 'function', pack: 'function?', inputQuant: 'function?',
  });
  codecs.unshift(codec);
}

const halfCodec = (format: 'float16' | 'bfloat16'): WeightCodec => ({
  format,
  match: (w) => w instanceof Tensor && w.dtype === format,
  encode: (w) => ({ tensors: { '': w as Tensor } }),
  decode: (t, _m, shape) => {
    const w = t[''];
    if (!w || w.dtype !== format || w.shape[0] !== shape[0] || w.shape[1] !== shape[1])
      throw rangeError('loadModel', `a ${format} weight must be ${format} [${shape.join(', ')}]`);
    return w;
  },
});
codecs.push(halfCodec('float16'), halfCodec('bfloat16'));

/** Options of {@link saveModel} and {@link serializeModel}. */
export interface SaveOptions {
  /**
   * Also write the float32 master weight of layers whose inference weight is compressed (int8, sparse, ...),
   * so the loaded model can be trained further (default false: a compressed model file holds only what
   * inference needs).
   */
  includeMaster?: boolean;
  /** Extra string metadata (e.g. accuracy, data set) written to `__metadata__`. */
  metadata?: Record<string, string>;
}

interface Entry {
  name: string;
  tensor: Tensor;
}

function layerTensors(l: Layer, i: number, opts: SaveOptions, entries: Entry[]): LayerConfig {
  const cfg = l.config();
  if (l instanceof Linear) {
    const kernel = l.format === 'float32' || l.kernelWeight instanceof PackedWeights ? null : l.kernelSource ?? l.kernelWeight;
    const c = cfg as Extract<LayerConfig, { type: 'linear' }> & { weightMeta?: Record<string, unknown>; master?: boolean };
    if (kernel) {
      const codec = codecs.find((k) => k.match(kernel));
      if (!codec) throw typeError('saveModel', `layer ${i} has a ${weightFormat(kernel)} weight and no codec is registered to save it`);
      const enc = codec.encode(kernel);
      c.weightFormat = codec.format;
      if (enc.meta) c.weightMeta = enc.meta;
      for (const [part, t] of Object.entries(enc.tensors)) entries.push({ name: `${i}.weight${part ? '.' + part : ''}`, tensor: t });
    } else {
      // Packing is a runtime detail: the file holds the float32 weight and the loader packs it again.
      c.weightFormat = l.kernelWeight instanceof PackedWeights ? 'packed' : 'float32';
    }
    if (l.weight && (!kernel || opts.includeMaster)) {
      entries.push({ name: `${i}.${kernel ? 'master' : 'weight'}`, tensor: l.weight.value });
      c.master = !!kernel;
    }
    if (l.bias) entries.push({ name: `${i}.bias`, tensor: l.bias.value });
    return c;
  }
  if (l instanceof LayerNorm) {
    entries.push({ name: `${i}.gamma`, tensor: l.gamma.value }, { name: `${i}.beta`, tensor: l.beta.value });
  } else if (l instanceof Normalize) {
    entries.push({ name: `${i}.mean`, tensor: l.mean }, { name: `${i}.invStd`, tensor: l.invStd });
  } else if (!(l instanceof ReLU || l instanceof GELU || l instanceof Dropout)) {
    throw typeError('saveModel', `layer ${i} (${l.type}) cannot be saved`);
  }
  return cfg;
}

/** The model file's bytes (see the module description). `model` is a Sequential. */
export function serializeModel(model: Sequential, opts: SaveOptions | null = {}): Uint8Array {
  opts = options('serializeModel', opts);
  if (!(model instanceof Sequential)) throw typeError('saveModel', `model must be a Sequential, got ${describe(model)}`);
  opts = checkOpts<SaveOptions>('saveModel', opts);
  const md = checkOpts<Record<string, unknown>>('saveModel', opts.metadata, 'opts.metadata');
  for (const [k, v] of Object.entries(md)) if (typeof v !== 'string') throw typeError('saveModel', `opts.metadata.${k} must be a string, got ${describe(v)}`);
  const entries: Entry[] = [];
  const layers = model.layers.map((l, i) => layerTensors(l, i, opts, entries));
  const config = { type: 'sequential', layers };
  const header: Record<string, unknown> = {
    __metadata__: { ...(opts.metadata ?? {}), format: MODEL_FORMAT, version: String(MODEL_VERSION), config: JSON.stringify(config) },
  };
  let off = 0;
  for (const e of entries) {
    const bytes = e.tensor.byteLength;
    header[e.name] = { dtype: DTYPE_CODES[e.tensor.dtype], shape: e.tensor.shape.slice(), data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  const raw = new TextEncoder().encode(json);
  const pad = (8 - (raw.length % 8)) % 8;
  json += ' '.repeat(pad);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  // Typed arrays are in the platform's byte order; every platform Node runs on here is little-endian.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw rangeError('saveModel', 'big-endian platforms are not supported');
  let p = 8 + head.length;
  for (const e of entries) {
    const d = e.tensor.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, e.tensor.byteLength), p);
    p += e.tensor.byteLength;
  }
  return out;
}

/** Writes `model` to `path` (see {@link serializeModel}); returns the bytes written. */
export function saveModel(model: Sequential, path: string, opts: SaveOptions | null = {}): number {
  filePath('saveModel', 'path', path);
  opts = options('saveModel', opts);
  const bytes = serializeModel(model, opts);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw rangeError('saveModel', `cannot write ${path}: ${(e as Error).message}`);
  }
  return bytes.length;
}

/** A loaded model with its file metadata. */
export interface LoadedModel {
  model: Sequential;
  /** `__metadata__` strings other than the format fields. */
  metadata: Record<string, string>;
}

function bad(where: string, msg: string): RangeError {
  return rangeError('loadModel', `${where}: ${msg}`);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Parses and validates a model file's bytes; `where` names the source in error messages. */
export function deserializeModel(bytes: Uint8Array, where = 'model'): LoadedModel {
  if (!(bytes instanceof Uint8Array)) throw typeError('loadModel', `bytes must be a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 8) throw bad(where, `${bytes.length} bytes is too short for a model file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getBigUint64(0, true);
  if (hlen > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) throw bad(where, `header length ${hlen} exceeds the file (${bytes.length} bytes)`);
  const h = Number(hlen);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + h)));
  } catch (e) {
    throw bad(where, `the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad(where, 'the header must be a JSON object');
  const meta = header.__metadata__ as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') throw bad(where, 'no __metadata__ in the header (not a simdtensor model file?)');
  if (meta.format !== MODEL_FORMAT) throw bad(where, `__metadata__.format is ${describe(meta.format)}, expected '${MODEL_FORMAT}'`);
  if (meta.version !== String(MODEL_VERSION)) throw bad(where, `unsupported format version ${describe(meta.version)} (this build reads ${MODEL_VERSION})`);
  for (const [k, v] of Object.entries(meta)) if (typeof v !== 'string') throw bad(where, `__metadata__.${k} must be a string (safetensors), got ${describe(v)}`);
  let config: LayerConfig;
  try {
    config = JSON.parse(meta.config as string);
  } catch {
    throw bad(where, '__metadata__.config is not valid JSON');
  }

  // Tensors: known dtypes, sizes that match their shapes, and a data section covered exactly, without overlaps.
  const dataStart = 8 + h;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, Tensor>();
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = CODE_DTYPES[e?.dtype as string];
    if (!dtype) throw bad(where, `tensor '${name}' has unknown dtype ${describe(e?.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isInt)) throw bad(where, `tensor '${name}' has a bad shape ${describe(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isInt(off[0]) || !isInt(off[1]) || off[1] < off[0] || off[1] > dataLen)
      throw bad(where, `tensor '${name}' has data_offsets ${describe(off)} outside the data section (${dataLen} bytes)`);
    const n = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (off[1] - off[0] !== n * dtypeBytes(dtype))
      throw bad(where, `tensor '${name}' spans ${off[1] - off[0]} bytes, its shape [${e.shape.join(', ')}] of ${dtype} needs ${n * dtypeBytes(dtype)}`);
    // Copy out: the file buffer need not be aligned for the element type.
    const Ctor = arrayCtor(dtype);
    const arr = new Ctor(n);
    new Uint8Array(arr.buffer).set(bytes.subarray(dataStart + off[0], dataStart + off[1]));
    if (dtype === 'float32') {
      const f = arr as Float32Array;
      for (let i = 0; i < n; i++) if (!Number.isFinite(f[i])) throw bad(where, `tensor '${name}' holds a non-finite value (${f[i]}) at element ${i}`);
    }
    tensors.set(name, new Tensor(arr as Float32Array, e.shape as number[], dtype, n) as Tensor);
    spans.push([off[0], off[1], name]);
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let end = 0;
  for (const [b, e, name] of spans) {
    if (b !== end) throw bad(where, b < end ? `tensor '${name}' overlaps the previous one` : `a hole of ${b - end} bytes before tensor '${name}'`);
    end = e;
  }
  if (end !== dataLen) throw bad(where, `${dataLen - end} bytes after the last tensor are not indexed`);

  const used = new Set<string>();
  const take = (name: string, dtype: DType, shape: number[] | null): Tensor => {
    const t = tensors.get(name);
    if (!t) throw bad(where, `tensor '${name}' is missing`);
    if (t.dtype !== dtype) throw bad(where, `tensor '${name}' is ${t.dtype}, expected ${dtype}`);
    if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])))
      throw bad(where, `tensor '${name}' has shape [${t.shape.join(', ')}], the config needs [${shape.join(', ')}]`);
    used.add(name);
    return t;
  };

  if (!config || config.type !== 'sequential' || !Array.isArray(config.layers) || config.layers.length === 0)
    throw bad(where, 'config must be a sequential model with at least one layer');
  const layers: Layer[] = config.layers.map((c, i) => {
    const at = `layer ${i} (${describe((c as { type?: unknown })?.type)})`;
    switch (c?.type) {
      case 'linear': {
        const lc = c as Extract<LayerConfig, { type: 'linear' }> & { weightMeta?: Record<string, unknown>; master?: boolean };
        if (!isInt(lc.inFeatures) || !isInt(lc.outFeatures) || lc.inFeatures < 1 || lc.outFeatures < 1)
          throw bad(where, `${at}: inFeatures/outFeatures must be positive integers`);
        const shape: [number, number] = [lc.outFeatures, lc.inFeatures];
        const bias = lc.bias ? take(`${i}.bias`, 'float32', [lc.outFeatures]) : null;
        const format = lc.weightFormat ?? 'float32';
        if (format === 'float32' || format === 'packed') {
          const l = Linear.from(take(`${i}.weight`, 'float32', shape), bias);
          return format === 'packed' ? l.pack() : l;
        }
        const codec = codecs.find((k) => k.format === format);
        if (!codec) throw bad(where, `${at}: weight format '${format}' has no codec in this build`);
        const prefix = `${i}.weight.`;
        const parts: Record<string, Tensor> = {};
        for (const [name, t] of tensors) {
          if (name === `${i}.weight`) parts[''] = t;
          else if (name.startsWith(prefix)) parts[name.slice(prefix.length)] = t;
        }
        for (const name of tensors.keys()) if (name === `${i}.weight` || name.startsWith(prefix)) used.add(name);
        let w: unknown;
        try {
          w = codec.decode(parts, lc.weightMeta ?? {}, shape);
        } catch (e) {
          throw bad(where, `${at}: ${(e as Error).message}`);
        }
        const run = codec.pack ? codec.pack(w) : w;
        const l = Linear.from(lc.master ? take(`${i}.master`, 'float32', shape) : run, bias);
        l.setKernelWeight(run, run === w ? null : w);
        if (lc.inputQuant !== undefined) {
          const q = lc.inputQuant;
          if (!codec.inputQuant) throw bad(where, `${at}: the ${format} format has no static input quantization`);
          if (!q || (q.dtype !== 'int8' && q.dtype !== 'uint8') || !(q.scale > 0) || !Number.isFinite(q.scale) || !Number.isInteger(q.zeroPoint))
            throw bad(where, `${at}: inputQuant must be { dtype: 'int8' | 'uint8', scale > 0, zeroPoint integer }, got ${describe(JSON.stringify(q))}`);
          l.inputQuant = codec.inputQuant(q);
        }
        return l;
      }
      case 'relu':
        return new ReLU();
      case 'gelu':
        return new GELU();
      case 'dropout':
        if (typeof c.p !== 'number' || !(c.p >= 0 && c.p < 1)) throw bad(where, `${at}: p must be in [0, 1)`);
        return new Dropout(c.p);
      case 'layernorm': {
        if (!isInt(c.features) || c.features < 1 || typeof c.eps !== 'number' || !(c.eps >= 0)) throw bad(where, `${at}: bad features or eps`);
        const ln = new LayerNorm(c.features, { eps: c.eps });
        ln.gamma.value.data.set(take(`${i}.gamma`, 'float32', [c.features]).data as Float32Array);
        ln.beta.value.data.set(take(`${i}.beta`, 'float32', [c.features]).data as Float32Array);
        return ln;
      }
      case 'normalize': {
        if (!isInt(c.features) || c.features < 1) throw bad(where, `${at}: bad features`);
        return new Normalize(take(`${i}.mean`, 'float32', [c.features]), take(`${i}.invStd`, 'float32', [c.features]));
      }
      default:
        throw bad(where, `${at}: unknown layer type`);
    }
  });
  for (const name of tensors.keys()) if (!used.has(name)) throw bad(where, `tensor '${name}' is not used by the config`);
  // Consecutive layers must agree on widths.
  let width: number | null = null;
  layers.forEach((l, i) => {
    const inW = l instanceof Linear ? l.inFeatures : l instanceof LayerNorm || l instanceof Normalize ? l.features : null;
    if (inW !== null && width !== null && inW !== width) throw bad(where, `layer ${i} takes ${inW} features, the previous layer gives ${width}`);
    if (l instanceof Linear) width = l.outFeatures;
    else if (inW !== null) width = inW;
  });
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) if (k !== 'format' && k !== 'version' && k !== 'config') metadata[k] = v as string;
  return { model: new Sequential(layers), metadata };
}

/** Reads and validates a model file (see {@link deserializeModel}). */
export function loadModel(path: string): LoadedModel {
  filePath('loadModel', 'path', path);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw rangeError('loadModel', `cannot read ${path}: ${(e as Error).message}`);
  }
  return deserializeModel(bytes, path);
}
