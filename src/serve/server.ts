/**
 * `createServer(model, opts)`: an HTTP inference server on node:http speaking the KServe v2 / Triton protocol
 * (JSON and the binary-tensor extension), with dynamic batching ({@link DynamicBatcher} over BatchScheduler), an
 * optional response cache, per-request timeouts, abort on client disconnect, load shedding (503 + Retry-After),
 * body limits (413), Prometheus metrics and a graceful drain. See docs/serving.md.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, rangeError, typeError, options } from '../errors.js';
import { SchedulerError } from '../scheduler/index.js';
import { prometheus } from '../monitor/index.js';
import { OnnxModel } from '../onnx/model.js';
import { Sequential } from '../nn/layers.js';
import { DynamicBatcher, onnxBatchable, type BatchableModel } from './batcher.js';
import { sequentialBatchable } from './models.js';
import { ServerMetrics } from './metrics.js';
import { packageVersion } from '../cli/optimize.js';
import { HeaderCache, modelMetadata, parseInferRequest, ProtocolError, type InferRequest } from './protocol.js';
import { InferCodec } from './codec.js';

/** Options of {@link createServer}. */
export interface ServeOptions {
  /** Model name in URLs and metadata (default: the model's own name, else 'model'). */
  name?: string;
  /** Version reported in metadata and responses (default '1'). */
  version?: string;
  /** Most rows per batch (default 32; 1 disables batching). */
  maxBatch?: number;
  /** Longest a request waits for others to join its batch, ms (default 2). */
  maxDelayMs?: number;
  /**
   * 'adaptive' (default): the wait for company shrinks toward 0 while batches come out under-full (a lone request
   * is answered at once, no timer) and grows back to `maxDelayMs` when they fill; 'fixed': always `maxDelayMs`.
   * See BatchScheduler's `batchDelay`.
   */
  batchDelay?: 'adaptive' | 'fixed';
  /** Most requests queued for a batch; past it requests get 503 with Retry-After (default 1024). */
  maxQueue?: number;
  /** Batches running at once (default 2). */
  maxConcurrentBatches?: number;
  /** Responses cached per input shape, keyed by the input bytes (default 0: no cache). */
  cache?: number;
  /** Largest request body in bytes; larger gets 413 (default 64 MiB). */
  maxBody?: number;
  /** Default per-request timeout, ms (default none). */
  timeoutMs?: number;
  /** Time a client has to send a whole request, ms; slower ones get 408 from node:http (default 30 000). */
  requestTimeoutMs?: number;
  /** Seconds in the Retry-After header of a 503 (default 1). */
  retryAfter?: number;
  /** Prefix of metric names (default 'simdtensor'). */
  metricsPrefix?: string;
  /** Include the library's prometheus() text (ops, schedulers, caches) in /metrics (default true). */
  libraryMetrics?: boolean;
}

/** A running (or ready to run) server. */
export interface InferenceServer {
  /** The node:http server. */
  readonly http: http.Server;
  /** The batcher requests go through. */
  readonly batcher: DynamicBatcher;
  readonly metrics: ServerMetrics;
  readonly name: string;
  /** True while listening and not draining. */
  readonly ready: boolean;
  /** Inference requests received and not yet answered. */
  readonly inFlight: number;
  /** Starts listening (port 0: any free port); resolves with the address. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /**
   * Graceful shutdown: readiness goes false, new connections are refused, requests already received are answered
   * (queued work runs), then the sockets close. With `timeoutMs`, whatever is still running then is cut off.
   */
  close(opts?: { timeoutMs?: number }): Promise<void>;
  /** The /metrics text. */
  metricsText(): string;
}

const JSON_TYPE = 'application/json';
const EMPTY = Buffer.alloc(0);

/**
 * What the scheduler uses of an AbortSignal (`aborted`, `reason`, an 'abort' listener), for aborting a request
 * whose client disconnected. An AbortController with its EventTarget costs ~10 µs per request in Node 20
 * (measured: a tenth of the server's CPU per request); this costs an object.
 */
class Disconnect {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | null = null;
  addEventListener(type: string, fn: () => void): void {
    if (type === 'abort' && !this.aborted) (this.listeners ??= []).push(fn);
  }
  removeEventListener(type: string, fn: () => void): void {
    const l = this.listeners;
    const i = l && type === 'abort' ? l.indexOf(fn) : -1;
    if (i >= 0) l!.splice(i, 1);
  }
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const l = this.listeners;
    this.listeners = null;
    if (l) for (const fn of l) fn();
  }
}

function toModel(model: unknown, name: string | undefined): BatchableModel {
  if (model instanceof OnnxModel) return onnxBatchable(model, name);
  if (model instanceof Sequential) return sequentialBatchable(model, name);
  const m = model as BatchableModel;
  if (m && typeof m === 'object' && typeof m.run === 'function' && Array.isArray(m.inputs) && Array.isArray(m.outputs)) return m;
  throw typeError('createServer', `model must be an OnnxModel (loadOnnx), a Sequential (loadModel(...).model) or { inputs, outputs, batchable, run }, got ${describe(model)}`);
}

const posInt = (fn: string, k: string, v: unknown, min: number, inf = false) => {
  if (typeof v !== 'number' || !(v >= min) || (!Number.isInteger(v) && !(inf && v === Infinity))) throw rangeError(fn, `opts.${k} must be an integer >= ${min}${inf ? ' (or Infinity)' : ''}, got ${describe(v)}`);
  return v;
};

/**
 * Creates an inference server for `model` (an OnnxModel, a Sequential, or a {@link BatchableModel}). Call
 * `listen(port, host)` to start it. Routes: `POST /v2/models/{name}[/versions/{v}]/infer`, `GET /v2/models/{name}`,
 * `GET /v2/models/{name}/ready`, `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2`, `GET /metrics`.
 */
export function createServer(model: OnnxModel | Sequential | BatchableModel, opts: ServeOptions | null = {}): InferenceServer {
  const fn = 'createServer';
  opts = options(fn, opts);
  const m = toModel(model, opts.name);
  const name = opts.name ?? m.name ?? 'model';
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name)) throw rangeError(fn, `opts.name must be made of [A-Za-z0-9_.-], got ${describe(name)}`);
  const version = opts.version ?? '1';
  if (typeof version !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(version)) throw rangeError(fn, `opts.version must be made of [A-Za-z0-9_.-], got ${describe(version)}`);
  const maxBatch = posInt(fn, 'maxBatch', opts.maxBatch ?? 32, 1);
  const maxDelayMs = opts.maxDelayMs ?? 2;
  if (typeof maxDelayMs !== 'number' || !(maxDelayMs >= 0) || !Number.isFinite(maxDelayMs)) throw rangeError(fn, `opts.maxDelayMs must be a number >= 0, got ${describe(maxDelayMs)}`);
  const batchDelay = opts.batchDelay ?? 'adaptive';
  if (batchDelay !== 'adaptive' && batchDelay !== 'fixed') throw typeError(fn, `opts.batchDelay must be 'adaptive' or 'fixed', got ${describe(batchDelay)}`);
  const maxQueue = posInt(fn, 'maxQueue', opts.maxQueue ?? 1024, 1, true);
  const maxConcurrentBatches = posInt(fn, 'maxConcurrentBatches', opts.maxConcurrentBatches ?? 2, 1);
  const cache = posInt(fn, 'cache', opts.cache ?? 0, 0);
  const maxBody = posInt(fn, 'maxBody', opts.maxBody ?? 64 * 2 ** 20, 1);
  const requestTimeoutMs = posInt(fn, 'requestTimeoutMs', opts.requestTimeoutMs ?? 30_000, 0);
  const retryAfter = String(posInt(fn, 'retryAfter', opts.retryAfter ?? 1, 0));
  const defTimeout = opts.timeoutMs;
  if (defTimeout !== undefined && (typeof defTimeout !== 'number' || !(defTimeout > 0))) throw rangeError(fn, `opts.timeoutMs must be a number > 0, got ${describe(defTimeout)}`);
  const prefix = opts.metricsPrefix ?? 'simdtensor';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw typeError(fn, `opts.metricsPrefix must be a metric name, got ${describe(prefix)}`);
  const libraryMetrics = opts.libraryMetrics ?? true;

  const metrics = new ServerMetrics(m.batchable ? maxBatch : 1);
  const batcher = new DynamicBatcher(m, { name, maxBatchSize: maxBatch, maxDelayMs, batchDelay, maxQueue, maxConcurrentBatches, workConserving: true, cache, onBatch: (r) => metrics.batch(r) });
  const meta = JSON.stringify(modelMetadata(name, version, batchShapes(m, 'inputs'), batchShapes(m, 'outputs'), m.batchable ? 'simdtensor_batched' : 'simdtensor'));
  const codec = new InferCodec(name, version, m.outputs);
  // Binary requests repeat their JSON header: parsed and checked once per distinct header.
  const headerCache = new HeaderCache(m.inputs, m.outputs);
  // The inference route as it arrives (names and versions are [A-Za-z0-9_.-], so never percent-encoded): matched
  // with one string compare before any splitting.
  const inferPath = `/v2/models/${name}/infer`;
  const inferPathV = `/v2/models/${name}/versions/${version}/infer`;
  const serverMeta = JSON.stringify({ name: 'simdtensor', version: packageVersionSafe(), extensions: ['binary_tensor_data'] });

  let listening = false;
  let draining = false;
  let inFlight = 0;
  let drained: (() => void) | null = null;
  let closing: Promise<void> | null = null;

  const send = (res: http.ServerResponse, route: string, status: number, body: string | Buffer, type = JSON_TYPE, extra?: Record<string, string>) => {
    metrics.request(route, status);
    if (res.destroyed) return;
    const h: Record<string, string | number> = { 'content-type': type, 'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length };
    if (extra) Object.assign(h, extra);
    if (draining) h.connection = 'close';
    res.writeHead(status, h);
    res.end(body);
  };
  const error = (res: http.ServerResponse, route: string, status: number, message: string, extra?: Record<string, string>) => send(res, route, status, JSON.stringify({ error: message }), JSON_TYPE, extra);

  const finishOne = () => {
    inFlight--;
    if (inFlight === 0 && drained) drained();
  };

  // 413: the rest of the body is not read, so answer and close the connection.
  const refuse = (req: http.IncomingMessage, res: http.ServerResponse, msg: string) => {
    res.shouldKeepAlive = false;
    error(res, 'infer', 413, msg, { connection: 'close' });
    res.on('finish', () => req.destroy());
  };

  const failed = (res: http.ServerResponse, e: unknown, timeoutMs: number | undefined) => {
    const route = 'infer';
    if (res.destroyed) {
      metrics.request(route, 499); // the client went away (nginx's code for it)
      return;
    }
    if (res.headersSent) {
      // Failed while writing its answer (inferTo hands an exception thrown by `done` here): nothing more can be sent.
      res.destroy();
      return;
    }
    if (e instanceof SchedulerError) {
      switch (e.code) {
        case 'queue_full':
          return error(res, route, 503, `the server is at capacity (${maxQueue} requests queued); retry later`, { 'retry-after': retryAfter });
        case 'timeout':
          return error(res, route, 504, `the request timed out after ${timeoutMs} ms`);
        case 'closed':
          return error(res, route, 503, 'the server is shutting down', { 'retry-after': retryAfter });
        case 'aborted':
          return error(res, route, 499, 'the request was cancelled');
        default:
          return error(res, route, 500, `the model failed: ${String((e.cause as Error)?.message ?? e.message)}`);
      }
    }
    if (e instanceof TypeError || e instanceof RangeError) return error(res, route, 400, (e as Error).message);
    return error(res, route, 500, `internal error: ${String((e as Error)?.message ?? e)}`);
  };

  const infer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const route = 'infer';
    if (req.method !== 'POST') return error(res, route, 405, `${req.method} is not allowed on ${req.url}; use POST`, { allow: 'POST' });
    if (draining) return error(res, route, 503, 'the server is shutting down', { 'retry-after': retryAfter });
    const headers = req.headers;
    const cl = headers['content-length'];
    if (cl !== undefined && Number(cl) > maxBody) return refuse(req, res, `the body is ${cl} bytes, more than the server's limit of ${maxBody} (--max-body)`);
    let jsonLength: number | undefined;
    const ihcl = headers['inference-header-content-length'];
    if (ihcl !== undefined) {
      jsonLength = Number(ihcl);
      if (!/^\d+$/.test(String(ihcl))) return error(res, route, 400, `Inference-Header-Content-Length must be a non-negative integer, got '${ihcl}'`);
    }
    let timeoutMs = defTimeout;
    const th = headers['timeout'];
    if (th !== undefined) {
      const us = Number(th);
      if (!(us > 0) || !Number.isFinite(us)) return error(res, route, 400, `the timeout header must be a positive number of microseconds, got '${th}'`);
      timeoutMs = us / 1000;
    }
    // In flight from here until the response has been written out (or the connection closed): a drain waits for it.
    inFlight++;
    const t0 = performance.now();
    // The body: usually one chunk (no array, no concat), else the chunks joined once at the end.
    let first: Buffer | null = null;
    let more: Buffer[] | null = null;
    let size = 0;
    let over = false;
    let done = false;
    let cancel: Disconnect | null = null;
    // One listener: the request is done when its response closes; a client that goes away before its answer
    // aborts its queued (or running) work.
    const onClose = () => {
      if (cancel && !res.writableFinished) cancel.abort(new Error('client disconnected'));
      if (!done) {
        done = true;
        finishOne();
      }
    };
    res.on('close', onClose);
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > maxBody) {
        over = true;
        first = more = null;
        refuse(req, res, `the body is more than the server's limit of ${maxBody} bytes (--max-body)`);
        return;
      }
      if (first === null) first = c;
      else (more ??= [first]).push(c);
    });
    req.on('error', onClose);
    req.on('end', () => {
      if (over) return;
      const body = more ? Buffer.concat(more, size) : (first ?? EMPTY);
      let r: InferRequest;
      try {
        r = parseInferRequest(body, jsonLength, m.inputs, m.outputs, headerCache);
      } catch (e) {
        return error(res, route, e instanceof ProtocolError ? e.status : 400, (e as Error).message);
      }
      if (r.timeoutUs !== undefined) timeoutMs = r.timeoutUs / 1000;
      cancel = new Disconnect();
      const signal = cancel as unknown as AbortSignal;
      // One promise step from the batch to the answer (inferTo calls back; no promise per request here).
      batcher.inferTo(
        r.feeds,
        timeoutMs !== undefined ? { signal, timeoutMs } : { signal },
        (outputs) => {
          const enc = codec.encode(r, outputs);
          metrics.latency.observe((performance.now() - t0) / 1000);
          metrics.request('infer', 200);
          if (!res.destroyed) codec.write(res, enc, draining);
        },
        (e: unknown) => failed(res, e, timeoutMs),
      );
    });
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      const url = req.url ?? '/';
      if (url === inferPath || url === inferPathV) return infer(req, res);
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const parts = path.split('/').filter(Boolean);
      const get = req.method === 'GET' || req.method === 'HEAD';
      if (parts[0] === 'v2') {
        if (parts.length === 1) return get ? send(res, 'server_metadata', 200, serverMeta) : error(res, 'server_metadata', 405, `${req.method} is not allowed on ${path}; use GET`);
        if (parts[1] === 'health' && parts.length === 3 && (parts[2] === 'live' || parts[2] === 'ready')) {
          const route = `health_${parts[2]}`;
          if (!get) return error(res, route, 405, `${req.method} is not allowed on ${path}; use GET`);
          if (parts[2] === 'live') return send(res, route, 200, '{"live":true}');
          const ok = listening && !draining;
          return send(res, route, ok ? 200 : 503, `{"ready":${ok}}`);
        }
        if (parts[1] === 'models' && parts.length >= 3) {
          let mname: string;
          try {
            mname = decodeURIComponent(parts[2]);
          } catch {
            return error(res, 'unknown', 400, `the model name in ${path} is not valid percent-encoding`);
          }
          let rest = parts.slice(3);
          if (rest[0] === 'versions') {
            if (rest[1] !== version) return error(res, 'model', 404, `model '${mname}' has no version '${rest[1] ?? ''}'; it has version '${version}'`);
            rest = rest.slice(2);
          }
          const route = rest.length === 0 ? 'model_metadata' : rest[0] === 'ready' ? 'model_ready' : rest[0] === 'infer' ? 'infer' : 'unknown';
          if (mname !== name) return error(res, route, 404, `unknown model '${mname}'; this server serves '${name}'`);
          if (rest.length === 0) return get ? send(res, route, 200, meta) : error(res, route, 405, `${req.method} is not allowed on ${path}; use GET`);
          if (rest.length === 1 && rest[0] === 'ready') {
            if (!get) return error(res, route, 405, `${req.method} is not allowed on ${path}; use GET`);
            const ok = listening && !draining;
            return send(res, route, ok ? 200 : 503, `{"name":${JSON.stringify(name)},"ready":${ok}}`);
          }
          if (rest.length === 1 && rest[0] === 'infer') return infer(req, res);
        }
      } else if (parts.length === 1 && parts[0] === 'metrics') {
        if (!get) return error(res, 'metrics', 405, `${req.method} is not allowed on ${path}; use GET`);
        return send(res, 'metrics', 200, metricsText(), 'text/plain; version=0.0.4; charset=utf-8');
      }
      return error(res, 'unknown', 404, `no route ${req.method} ${path}; see GET /v2 and /v2/models/${name}`);
    } catch (e) {
      // Nothing above should throw; if something does, the request still gets an answer.
      if (!res.headersSent) error(res, 'unknown', 500, `internal error: ${String((e as Error)?.message ?? e)}`);
      else res.destroy();
    } finally {
      // A request answered without reading its body (404, 405, early 400s): discard the body so the keep-alive
      // connection stays usable for the next request.
      if (req.listenerCount('data') === 0 && !req.complete) req.resume();
    }
  };

  const metricsText = () => {
    const c = batcher.cacheStats();
    let s = metrics.render(prefix, name, { queueDepth: batcher.queueDepth, inFlight, runningBatches: batcher.runningBatches, ready: listening && !draining, ...{ cacheHits: c.hits, cacheMisses: c.misses, cacheEntries: c.entries } });
    if (libraryMetrics) s += prometheus({ prefix });
    return s;
  };

  // Slow clients: the whole request (headers and body) must arrive within requestTimeoutMs; node checks every
  // connectionsCheckingInterval, so that is a fraction of the timeout rather than its 30 s default.
  const server = http.createServer(
    {
      requestTimeout: requestTimeoutMs,
      ...(requestTimeoutMs > 0 ? { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(5_000, requestTimeoutMs / 4)) } : {}),
      keepAliveTimeout: 65_000,
    },
    handler,
  );
  // Malformed HTTP (bad request line, header overflow) or a request that did not arrive in time: a JSON error and
  // the connection closed; never a socket error reaching 'uncaughtException'.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const msg = code === 408 ? `the request did not arrive within ${requestTimeoutMs} ms` : `malformed HTTP request (${err.code ?? err.message})`;
    const pending = (socket as unknown as { _httpMessage?: http.ServerResponse })._httpMessage;
    if (pending && !pending.headersSent && !pending.destroyed) {
      // A request whose body is still arriving: answer through its response, then close.
      pending.shouldKeepAlive = false;
      error(pending, 'infer', code, msg, { connection: 'close' });
      pending.on('finish', () => socket.destroy());
    } else if (socket.writable && !pending) {
      const body = JSON.stringify({ error: msg });
      socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  });

  const api: InferenceServer = {
    http: server,
    batcher,
    metrics,
    name,
    get ready() {
      return listening && !draining;
    },
    get inFlight() {
      return inFlight;
    },
    listen(port = 8080, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const onErr = (e: Error) => reject(e);
        server.once('error', onErr);
        // A deep accept backlog (the kernel caps it at net.core.somaxconn): a burst of new connections waits in it
        // instead of overflowing Node's default 511, which shows up as resets under a connection storm.
        server.listen(port, host, 4096, () => {
          server.off('error', onErr);
          listening = true;
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(o: { timeoutMs?: number } = {}) {
      if (closing) return closing;
      draining = true;
      closing = (async () => {
        const stopped = new Promise<void>((r) => (listening ? server.close(() => r()) : r()));
        server.closeIdleConnections();
        const all = new Promise<void>((r) => {
          if (inFlight === 0) r();
          else drained = r;
        });
        const limit = o.timeoutMs;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([all, ...(limit !== undefined ? [new Promise<void>((r) => (timer = setTimeout(r, limit)))] : [])]);
        clearTimeout(timer);
        await batcher.close(limit !== undefined ? { timeoutMs: 0 } : {});
        server.closeAllConnections();
        await stopped;
        listening = false;
      })();
      return closing;
    },
    metricsText,
  };
  return api;
}

/** Shapes for metadata: the batch dim is -1 when batching along it. */
function batchShapes(m: BatchableModel, k: 'inputs' | 'outputs') {
  return m[k].map((s) => ({ ...s, shape: m.batchable && s.shape.length ? [-1, ...s.shape.slice(1)] : s.shape.slice() }));
}

let versionCache: string | null = null;
function packageVersionSafe(): string {
  return (versionCache ??= packageVersion());
}
