/**
 * The per-model response side of the inference route: {@link InferCodec} encodes a model's outputs exactly as
 * {@link encodeInferResponse} does, from pieces computed once per served model (the model name and version JSON, each
 * output's name, the JSON header of a binary answer for the shapes seen), and writes the answer with one reused
 * header object and a single `res.end(body)`. See docs/serving.md ("third pass").
 * @module
 */
import type http from 'node:http';
import type { HostTensor, TensorSpec } from './batcher.js';
import { encodeInferResponse, v2Datatype, type EncodedResponse, type InferRequest } from './protocol.js';

const JSON_TYPE = 'application/json';
const BIN_TYPE = 'application/octet-stream';
/** Most binary JSON headers kept per model (one per output shape seen, e.g. per batch-of-rows count). */
const MAX_HEADERS = 64;

/** Encodes and writes inference responses for one served model. */
export class InferCodec {
  readonly model: string;
  readonly version: string;
  private readonly order: readonly TensorSpec[];
  /** `{"model_name":…,"model_version":…` */
  private readonly prefix: string;
  /** Output name → its JSON string. */
  private readonly names = new Map<string, string>();
  /** The JSON header of a binary answer (no id, the only output, binary), by dtype and shape. */
  private readonly binHeads = new Map<string, Buffer>();
  /** The binary header used last, with its dtype, shape and size (the common repeat skips the key). */
  private lastHead: { dtype: string; shape: number[]; bytes: number; head: Buffer } | null = null;
  /**
   * Header objects reused for every 200 answer (writeHead reads them synchronously and keeps nothing, so only
   * the lengths change between answers). A draining server uses fresh objects with `connection: close`.
   */
  private readonly jsonHeaders: { 'content-type': string; 'content-length': number } = { 'content-type': JSON_TYPE, 'content-length': 0 };
  private readonly binHeaders: { 'content-type': string; 'content-length': number; 'inference-header-content-length': number } = {
    'content-type': BIN_TYPE,
    'content-length': 0,
    'inference-header-content-length': 0,
  };

  constructor(model: string, version: string, outputs: readonly TensorSpec[]) {
    this.model = model;
    this.version = version;
    this.order = outputs;
    this.prefix = `{"model_name":${JSON.stringify(model)},"model_version":${JSON.stringify(version)}`;
    for (const o of outputs) this.names.set(o.name, JSON.stringify(o.name));
  }

  /** The response body for `req`'s outputs: byte for byte what {@link encodeInferResponse} gives. */
  encode(req: InferRequest, outs: Record<string, HostTensor>): EncodedResponse {
    const want = req.outputs;
    // The common binary case (the bench's, and a typical client's): one output, sent binary, no id.
    if (req.id === undefined && this.order.length === 1 && (want ? want.length === 1 && want[0].binary : req.binaryAll)) {
      const o = this.order[0];
      const t = outs[o.name];
      if (t) {
        const d = t.data;
        // The last answer's header when dtype and shape repeat (compared in place: no key string built).
        const lh = this.lastHead;
        let head: Buffer | undefined;
        if (lh && lh.dtype === t.dtype && lh.shape.length === t.shape.length && lh.bytes === d.byteLength && lh.shape.every((v, i) => v === t.shape[i])) head = lh.head;
        else {
          const key = `${t.dtype}:${t.shape.join(',')}:${d.byteLength}`;
          head = this.binHeads.get(key);
          if (!head) {
            head = Buffer.from(`${this.prefix},"outputs":[{"name":${this.names.get(o.name)},"datatype":"${v2Datatype(t.dtype)}","shape":[${t.shape.join(',')}],"parameters":{"binary_data_size":${d.byteLength}}}]}`);
            if (this.binHeads.size >= MAX_HEADERS) this.binHeads.clear();
            this.binHeads.set(key, head);
          }
          this.lastHead = { dtype: t.dtype, shape: t.shape.slice(), bytes: d.byteLength, head };
        }
        const body = Buffer.allocUnsafe(head.length + d.byteLength);
        head.copy(body, 0);
        body.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), head.length);
        return { body, jsonLength: head.length };
      }
    }
    return encodeInferResponse(this.model, this.version, req, outs, this.order);
  }

  /** Writes a 200 answer: status and headers, then the body, in one `res.end`. */
  write(res: http.ServerResponse, enc: EncodedResponse, close: boolean): void {
    const body = enc.body;
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    let h: Record<string, string | number>;
    if (enc.jsonLength === undefined) {
      if (close) h = { 'content-type': JSON_TYPE, 'content-length': len, connection: 'close' };
      else {
        this.jsonHeaders['content-length'] = len;
        h = this.jsonHeaders;
      }
    } else if (close) h = { 'content-type': BIN_TYPE, 'content-length': len, 'inference-header-content-length': enc.jsonLength, connection: 'close' };
    else {
      this.binHeaders['content-length'] = len;
      this.binHeaders['inference-header-content-length'] = enc.jsonLength;
      h = this.binHeaders;
    }
    res.writeHead(200, h);
    res.end(body);
  }
}
