/**
 * The server's own Prometheus metrics: HTTP requests by route and status, request latency and batch-size
 * histograms, queue depth, in-flight requests, cache hits. `/metrics` appends the library's `prometheus()` text
 * (per-op times with monitoring on, scheduler and cache statistics).
 * @module
 */

/** A cumulative Prometheus histogram with fixed upper bounds. */
export class Histogram {
  readonly bounds: number[];
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(bounds: number[]) {
    this.bounds = bounds;
    this.counts = new Array(bounds.length + 1).fill(0);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
  render(name: string, help: string, labels = ''): string {
    let s = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
    let acc = 0;
    const l = labels ? `${labels},` : '';
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i];
      s += `${name}_bucket{${l}le="${this.bounds[i]}"} ${acc}\n`;
    }
    acc += this.counts[this.bounds.length];
    s += `${name}_bucket{${l}le="+Inf"} ${acc}\n${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}\n${name}_count${labels ? `{${labels}}` : ''} ${this.count}\n`;
    return s;
  }
}

/** Latency bounds in seconds: 0.25 ms … 10 s. */
const LATENCY = [0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** Counters and histograms of one server. */
export class ServerMetrics {
  /** Requests by route, then status (no string built per request). */
  private readonly requests = new Map<string, Map<number, number>>();
  readonly latency = new Histogram(LATENCY);
  readonly batchSize: Histogram;
  batches = 0;
  constructor(maxBatch: number) {
    const b: number[] = [];
    for (let s = 1; s < maxBatch; s *= 2) b.push(s);
    b.push(maxBatch);
    this.batchSize = new Histogram(b);
  }
  request(route: string, status: number): void {
    let m = this.requests.get(route);
    if (!m) this.requests.set(route, (m = new Map()));
    m.set(status, (m.get(status) ?? 0) + 1);
  }
  /** Count of requests with this route and status (for tests and the bench). */
  count(route: string, status: number): number {
    return this.requests.get(route)?.get(status) ?? 0;
  }
  batch(rows: number): void {
    this.batches++;
    this.batchSize.observe(rows);
  }
  render(p: string, model: string, gauges: { queueDepth: number; inFlight: number; runningBatches: number; ready: boolean; cacheHits: number; cacheMisses: number; cacheEntries: number }): string {
    const m = `model="${model.replace(/["\\\n]/g, '_')}"`;
    let s = `# HELP ${p}_http_requests_total HTTP requests answered, by route and status code.\n# TYPE ${p}_http_requests_total counter\n`;
    for (const [route, codes] of this.requests) for (const [code, v] of codes) s += `${p}_http_requests_total{route="${route}",code="${code}"} ${v}\n`;
    s += this.latency.render(`${p}_inference_request_duration_seconds`, 'Inference request latency, body received to response written.', m);
    s += this.batchSize.render(`${p}_inference_batch_size`, 'Rows per batch the model ran.', m);
    const g = (name: string, help: string, v: number, type = 'gauge') => `# HELP ${p}_${name} ${help}\n# TYPE ${p}_${name} ${type}\n${p}_${name}{${m}} ${v}\n`;
    s += g('inference_queue_depth', 'Requests queued for a batch.', gauges.queueDepth);
    s += g('inference_running_batches', 'Batches running.', gauges.runningBatches);
    s += g('inference_in_flight', 'Inference requests received and not yet answered.', gauges.inFlight);
    s += g('model_ready', '1 when the model is ready to take requests.', gauges.ready ? 1 : 0);
    s += g('response_cache_hits_total', 'Responses served from the response cache.', gauges.cacheHits, 'counter');
    s += g('response_cache_misses_total', 'Cache lookups that ran the model.', gauges.cacheMisses, 'counter');
    s += g('response_cache_entries', 'Responses held in the response cache.', gauges.cacheEntries);
    return s;
  }
}
