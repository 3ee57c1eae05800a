/**
 * The KServe v2 / Triton inference protocol on the wire: request bodies (JSON, and the binary-tensor extension with
 * `Inference-Header-Content-Length`) → feeds, and outputs → response bodies. Every malformed request throws a
 * {@link ProtocolError} (HTTP 400) naming the field and what was wrong.
 * @module
 */
import { dtypeArray, dtypeBytes, type HostTensor, type ServeDType, type TensorSpec } from './batcher.js';
import { BAIL, parseRequestJson } from './json.js';

/** A request the server answers with a 4xx: `status` and a message naming the problem. */
export class ProtocolError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'ProtocolError';
    this.status = status;
  }
}

/** v2 datatype names ↔ ours. */
const TO_V2: Record<ServeDType, string> = { float32: 'FP32', float64: 'FP64', int8: 'INT8', uint8: 'UINT8', int32: 'INT32', int64: 'INT64', bool: 'BOOL' };
const FROM_V2: Record<string, ServeDType> = { FP32: 'float32', FP64: 'float64', INT8: 'int8', UINT8: 'uint8', INT32: 'int32', INT64: 'int64', BOOL: 'bool' };
const KNOWN_V2 = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'BF16', 'FP32', 'FP64', 'BYTES'];
const INT_RANGE: Partial<Record<ServeDType, [number, number]>> = { int8: [-128, 127], uint8: [0, 255], int32: [-2147483648, 2147483647] };

/** Our dtype's v2 name (FP32, INT64, ...). */
export function v2Datatype(dt: ServeDType): string {
  return TO_V2[dt];
}

/** A parsed inference request. */
export interface InferRequest {
  id: string | undefined;
  feeds: Record<string, HostTensor>;
  /** Outputs to return (null: all), each with whether it goes as binary data. */
  outputs: { name: string; binary: boolean }[] | null;
  /** binary_data_output: every output (not listed otherwise) as binary. */
  binaryAll: boolean;
  /** parameters.timeout, microseconds (Triton's convention), or undefined. */
  timeoutUs: number | undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const short = (v: unknown) => {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** What a binary request's JSON header says once checked: everything but the tensor bytes. */
interface HeaderPlan {
  id: string | undefined;
  outputs: InferRequest['outputs'];
  binaryAll: boolean;
  timeoutUs: number | undefined;
  /** The inputs, in body order, every one binary. */
  inputs: { name: string; dtype: ServeDType; shape: number[]; bytes: number }[];
  /** Their bytes in all: what must follow the header. */
  binBytes: number;
}

/** Headers at most this long are kept. */
const HEADER_CACHE_BYTES = 4096;
/** Headers kept per cache. */
const HEADER_CACHE_ENTRIES = 8;

/**
 * The checked JSON headers of recent binary requests, by their exact bytes. A client sends the same header for
 * every request of a shape (names, datatype, shape, binary sizes), so its parse and checks are done once and a
 * repeat costs a byte compare; only headers whose every input is binary and that parsed without error are kept.
 * One per served model (the checks depend on the model's inputs and outputs).
 */
export class HeaderCache {
  private readonly keys: Buffer[] = [];
  private readonly plans: HeaderPlan[] = [];
  private next = 0;
  /** Repeats answered from the cache, and headers parsed (tests and the bench). */
  hits = 0;
  misses = 0;
  constructor(
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
  ) {}
  /** The plan of a header with exactly these bytes, or null. */
  get(bytes: Buffer): HeaderPlan | null {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i].length === bytes.length && keys[i].equals(bytes)) return this.plans[i];
    return null;
  }
  /** Keeps `plan` under a copy of `bytes` (round robin past HEADER_CACHE_ENTRIES). */
  set(bytes: Buffer, plan: HeaderPlan): void {
    if (bytes.length > HEADER_CACHE_BYTES) return;
    const key = Buffer.from(bytes);
    if (this.keys.length < HEADER_CACHE_ENTRIES) {
      this.keys.push(key);
      this.plans.push(plan);
    } else {
      this.keys[this.next] = key;
      this.plans[this.next] = plan;
      this.next = (this.next + 1) % HEADER_CACHE_ENTRIES;
    }
  }
}

/** A binary input's data: a view of the body when aligned for its element type, else a copy. */
function binaryData(name: string, dt: ServeDType, bin: Buffer, off: number, n: number, bytes: number): HostTensor['data'] {
  // The batch copies the rows anyway; the body's memory is this request's own (node allocates each read).
  const at = bin.byteOffset + off;
  let data: HostTensor['data'];
  if (at % dtypeBytes(dt) === 0) data = new (dtypeArray(dt))(bin.buffer as ArrayBuffer, at, n);
  else {
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(bin.subarray(off, off + bytes));
    data = new (dtypeArray(dt))(ab, 0, n);
  }
  if (dt === 'bool') for (let i = 0; i < n; i++) if (data[i] > 1) throw new ProtocolError(`input '${name}': BOOL byte ${i} is ${data[i]}, must be 0 or 1`);
  return data;
}

/** A request from a cached header plan and this body's tensor bytes; null when they do not add up (the full parse then names the problem). */
function fromPlan(plan: HeaderPlan, bin: Buffer): InferRequest | null {
  if (bin.length !== plan.binBytes) return null;
  const feeds: Record<string, HostTensor> = Object.create(null);
  let off = 0;
  for (const i of plan.inputs) {
    // Shapes are shared between the requests of a header (frozen): readers copy, never write.
    feeds[i.name] = { dtype: i.dtype, shape: i.shape, data: binaryData(i.name, i.dtype, bin, off, i.bytes / dtypeBytes(i.dtype), i.bytes) };
    off += i.bytes;
  }
  return { id: plan.id, feeds, outputs: plan.outputs, binaryAll: plan.binaryAll, timeoutUs: plan.timeoutUs };
}

/**
 * Parses a request body. `jsonLength` is the Inference-Header-Content-Length header (undefined for a JSON-only
 * body); the bytes after the JSON header hold the binary inputs in order. With a {@link HeaderCache} (whose model
 * must be `inputs`/`outputs`), a binary request whose header was seen before skips the JSON parse and checks.
 */
export function parseInferRequest(body: Buffer, jsonLength: number | undefined, inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], cache?: HeaderCache): InferRequest {
  let jsonBytes = body;
  let bin: Buffer | null = null;
  if (jsonLength !== undefined) {
    if (jsonLength > body.length) throw new ProtocolError(`Inference-Header-Content-Length is ${jsonLength}, but the body has only ${body.length} bytes`);
    jsonBytes = body.subarray(0, jsonLength);
    bin = body.subarray(jsonLength);
    if (cache) {
      const plan = cache.get(jsonBytes);
      const r = plan && fromPlan(plan, bin);
      if (r) {
        cache.hits++;
        return r;
      }
      cache.misses++;
      const binIns: HeaderPlan['inputs'] = [];
      const parsed = parseFull(jsonBytes, bin, inputs, outputs, binIns);
      // Kept when every input was binary (a JSON-data input cannot be replayed from the header alone).
      if (binIns.length === Object.keys(parsed.feeds).length) {
        const outs = parsed.outputs;
        if (outs) for (const o of outs) Object.freeze(o);
        cache.set(jsonBytes, { id: parsed.id, outputs: outs && (Object.freeze(outs) as InferRequest['outputs']), binaryAll: parsed.binaryAll, timeoutUs: parsed.timeoutUs, inputs: binIns, binBytes: bin.length });
      }
      return parsed;
    }
  }
  return parseFull(jsonBytes, bin, inputs, outputs, null);
}

/**
 * The full parse and checks of a request's JSON (and its binary part). `binIns`, when given, receives each binary
 * input (name, dtype, a frozen copy of its shape, its bytes) in body order.
 */
function parseFull(jsonBytes: Buffer, bin: Buffer | null, inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], binIns: HeaderPlan['inputs'] | null): InferRequest {
  // The fast path reads the bytes directly (a flat numeric "data" array comes back as a Float64Array); anything it
  // does not handle, invalid JSON included, goes through JSON.parse and its error message.
  let req: unknown = parseRequestJson(jsonBytes);
  if (req === BAIL) {
    try {
      req = JSON.parse(jsonBytes.toString('utf8'));
    } catch (e) {
      throw new ProtocolError(`the request body is not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isObj(req)) throw new ProtocolError(`the request must be a JSON object with 'inputs', got ${short(req)}`);
  const id = req.id;
  if (id !== undefined && typeof id !== 'string') throw new ProtocolError(`'id' must be a string, got ${short(id)}`);
  let binaryAll = false;
  let timeoutUs: number | undefined;
  if (req.parameters !== undefined) {
    const p = req.parameters;
    if (!isObj(p)) throw new ProtocolError(`'parameters' must be an object, got ${short(p)}`);
    if (p.binary_data_output !== undefined) {
      if (typeof p.binary_data_output !== 'boolean') throw new ProtocolError(`parameters.binary_data_output must be true or false, got ${short(p.binary_data_output)}`);
      binaryAll = p.binary_data_output;
    }
    if (p.timeout !== undefined) {
      if (typeof p.timeout !== 'number' || !Number.isFinite(p.timeout) || p.timeout <= 0) throw new ProtocolError(`parameters.timeout must be a positive number of microseconds, got ${short(p.timeout)}`);
      timeoutUs = p.timeout;
    }
  }
  const ins = req.inputs;
  if (!Array.isArray(ins) || ins.length === 0) throw new ProtocolError(`'inputs' must be a non-empty array of { name, shape, datatype, data }, got ${short(ins)}`);
  const feeds: Record<string, HostTensor> = Object.create(null);
  let binOff = 0;
  for (let k = 0; k < ins.length; k++) {
    const t = ins[k];
    if (!isObj(t)) throw new ProtocolError(`inputs[${k}] must be an object { name, shape, datatype, data }, got ${short(t)}`);
    const name = t.name;
    if (typeof name !== 'string') throw new ProtocolError(`inputs[${k}].name must be a string, got ${short(name)}`);
    const spec = inputs.find((s) => s.name === name);
    if (!spec) throw new ProtocolError(`unknown input '${name}'; the model's inputs are ${inputs.map((s) => `'${s.name}'`).join(', ')}`);
    if (feeds[name]) throw new ProtocolError(`input '${name}' is given twice`);
    const dtv2 = t.datatype;
    if (typeof dtv2 !== 'string') throw new ProtocolError(`input '${name}': datatype must be a string such as ${TO_V2[spec.dtype]}, got ${short(dtv2)}`);
    const dt = FROM_V2[dtv2];
    if (!dt) throw new ProtocolError(`input '${name}': datatype ${short(dtv2)} is ${KNOWN_V2.includes(dtv2) ? 'not supported by this server' : 'not a v2 datatype'}; the model takes ${TO_V2[spec.dtype]}`);
    if (dt !== spec.dtype) throw new ProtocolError(`input '${name}': datatype ${dtv2} does not match the model's ${TO_V2[spec.dtype]}`);
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 2 ** 31))
      throw new ProtocolError(`input '${name}': shape must be an array of non-negative integers, got ${short(shape)}`);
    let n = 1;
    for (const d of shape as number[]) n *= d;
    if (n > 2 ** 28) throw new ProtocolError(`input '${name}': shape [${shape.join(', ')}] has ${n} elements, more than this server takes`);
    const params = t.parameters;
    if (params !== undefined && !isObj(params)) throw new ProtocolError(`input '${name}': parameters must be an object, got ${short(params)}`);
    const binSize = params?.binary_data_size;
    let data: HostTensor['data'];
    const el = dtypeBytes(dt);
    if (binSize !== undefined) {
      if (!bin) throw new ProtocolError(`input '${name}' has parameters.binary_data_size but the request has no Inference-Header-Content-Length header`);
      if (typeof binSize !== 'number' || !Number.isInteger(binSize) || binSize < 0) throw new ProtocolError(`input '${name}': binary_data_size must be a non-negative integer, got ${short(binSize)}`);
      if (binSize !== n * el) throw new ProtocolError(`input '${name}': binary_data_size is ${binSize} bytes, shape [${shape.join(', ')}] of ${dtv2} needs ${n * el}`);
      if (binOff + binSize > bin.length) throw new ProtocolError(`input '${name}': binary data runs past the end of the body (${binOff + binSize} > ${bin.length} bytes after the JSON header)`);
      data = binaryData(name, dt, bin, binOff, n, binSize);
      binIns?.push({ name, dtype: dt, shape: Object.freeze((shape as number[]).slice()) as number[], bytes: binSize });
      binOff += binSize;
    } else {
      if (t.data === undefined) throw new ProtocolError(`input '${name}' has no 'data' (and no parameters.binary_data_size)`);
      data = fromJson(name, dt, t.data, n, shape as number[]);
    }
    feeds[name] = { dtype: dt, shape: shape as number[], data };
  }
  if (bin && binOff !== bin.length) throw new ProtocolError(`the body has ${bin.length - binOff} bytes after the JSON header that no input's binary_data_size accounts for`);
  let outs: InferRequest['outputs'] = null;
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) throw new ProtocolError(`'outputs' must be an array of { name, parameters }, got ${short(req.outputs)}`);
    outs = [];
    for (let k = 0; k < req.outputs.length; k++) {
      const o = req.outputs[k];
      if (!isObj(o) || typeof o.name !== 'string') throw new ProtocolError(`outputs[${k}] must be an object with a string 'name', got ${short(o)}`);
      if (!outputs.some((s) => s.name === o.name)) throw new ProtocolError(`unknown output '${o.name}'; the model's outputs are ${outputs.map((s) => `'${s.name}'`).join(', ')}`);
      const p = o.parameters;
      if (p !== undefined && !isObj(p)) throw new ProtocolError(`output '${o.name}': parameters must be an object, got ${short(p)}`);
      const b = p?.binary_data;
      if (b !== undefined && typeof b !== 'boolean') throw new ProtocolError(`output '${o.name}': parameters.binary_data must be true or false, got ${short(b)}`);
      outs.push({ name: o.name, binary: b ?? binaryAll });
    }
  }
  return { id, feeds, outputs: outs, binaryAll, timeoutUs };
}

/** A JSON `data` array (flat, row-major, or nested) → a typed array of `n` elements, every element checked. */
function fromJson(name: string, dt: ServeDType, raw: unknown, n: number, shape: number[]): HostTensor['data'] {
  // A Float64Array comes from the fast parser: a flat array of JSON numbers, already checked to be numbers.
  const nums = raw instanceof Float64Array;
  if (!nums && !Array.isArray(raw)) throw new ProtocolError(`input '${name}': data must be an array, got ${short(raw)}`);
  let a = raw as ArrayLike<unknown>;
  if (!nums && a.length !== n && a.length > 0 && Array.isArray(a[0])) a = (a as unknown[]).flat(Infinity);
  if (a.length !== n) throw new ProtocolError(`input '${name}': shape [${shape.join(', ')}] needs ${n} elements, data has ${a.length}`);
  const bad = (i: number, want: string) => new ProtocolError(`input '${name}': data[${i}] is ${short(a[i])}, not ${want}`);
  switch (dt) {
    case 'float32':
    case 'float64': {
      const out = dt === 'float32' ? new Float32Array(n) : new Float64Array(n);
      if (nums) {
        out.set(raw);
        return out;
      }
      for (let i = 0; i < n; i++) {
        const v = a[i];
        if (typeof v !== 'number') throw bad(i, 'a number');
        out[i] = v;
      }
      return out;
    }
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = a[i];
        if (typeof v === 'number' && Number.isSafeInteger(v)) out[i] = BigInt(v);
        else if (typeof v === 'string' && /^-?\d{1,19}$/.test(v) && BigInt.asIntN(64, BigInt(v)) === BigInt(v)) out[i] = BigInt(v);
        else throw bad(i, 'an integer (exact as a number up to 2^53, or a decimal string)');
      }
      return out;
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = a[i];
        if (typeof v !== 'boolean') throw bad(i, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    default: {
      const [lo, hi] = INT_RANGE[dt]!;
      const out = new (dtypeArray(dt))(n) as Int8Array | Uint8Array | Int32Array;
      for (let i = 0; i < n; i++) {
        const v = a[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad(i, `an integer in [${lo}, ${hi}] (${TO_V2[dt]})`);
        out[i] = v;
      }
      return out;
    }
  }
}

/** A typed array as a JSON array literal. Non-finite floats (which JSON cannot hold) become null. */
function jsonData(t: HostTensor): string {
  const d = t.data;
  if (t.dtype === 'bool') {
    let s = '[';
    for (let i = 0; i < d.length; i++) s += (i ? ',' : '') + (d[i] ? 'true' : 'false');
    return s + ']';
  }
  const s = '[' + Array.prototype.join.call(d, ',') + ']';
  if ((t.dtype === 'float32' || t.dtype === 'float64') && (s.includes('N') || s.includes('I'))) return JSON.stringify(Array.from(d as Float32Array));
  return s;
}

/** A response body: a JSON string, or a JSON header followed by binary outputs (with its length for the header). */
export interface EncodedResponse {
  body: string | Buffer;
  /** Set when the body carries binary outputs: the JSON header's length in bytes. */
  jsonLength?: number;
}

/** Encodes a response: `{ model_name, model_version, id, outputs: [{ name, datatype, shape, data }] }`. */
export function encodeInferResponse(model: string, version: string, req: InferRequest, outs: Record<string, HostTensor>, order: readonly TensorSpec[]): EncodedResponse {
  const want = req.outputs;
  const n = want ? want.length : order.length;
  let json = `{"model_name":${JSON.stringify(model)},"model_version":${JSON.stringify(version)}${req.id !== undefined ? `,"id":${JSON.stringify(req.id)}` : ''},"outputs":[`;
  let bins: HostTensor['data'][] | null = null;
  let binBytes = 0;
  for (let k = 0; k < n; k++) {
    const name = want ? want[k].name : order[k].name;
    const t = outs[name];
    json += `${k ? ',' : ''}{"name":${JSON.stringify(name)},"datatype":"${TO_V2[t.dtype]}","shape":[${t.shape.join(',')}]`;
    if (want ? want[k].binary : req.binaryAll) {
      (bins ??= []).push(t.data);
      binBytes += t.data.byteLength;
      json += `,"parameters":{"binary_data_size":${t.data.byteLength}}}`;
    } else json += `,"data":${jsonData(t)}}`;
  }
  json += ']}';
  if (!bins) return { body: json };
  // One buffer: the JSON header, then each binary output's bytes.
  const jl = Buffer.byteLength(json);
  const body = Buffer.allocUnsafe(jl + binBytes);
  body.write(json, 0, jl, 'utf8');
  let off = jl;
  for (const d of bins) {
    body.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), off);
    off += d.byteLength;
  }
  return { body, jsonLength: jl };
}

/** Model metadata (`GET /v2/models/{name}`): names, datatypes, and shapes with -1 for dynamic dims. */
export function modelMetadata(name: string, version: string, inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], platform: string): object {
  const io = (s: TensorSpec) => ({ name: s.name, datatype: TO_V2[s.dtype], shape: s.shape.slice() });
  return { name, versions: [version], platform, inputs: inputs.map(io), outputs: outputs.map(io) };
}
