/**
 * Package-wide statistics: ops, schedulers and caches, as a JSON-ready object or in the Prometheus text format.
 * @module
 */
import { describe, typeError, options } from '../errors.js';
import type { LatencySummary } from './histogram.js';
import { monitoringEnabled, opStats, OpStats, resetOps } from './recorder.js';
import { cacheStats, CacheStats, resetSources, schedulerStats, SchedulerStats } from './sources.js';

/** Everything {@link stats} reports. Times in milliseconds. */
export interface MonitorStats {
  /** Whether op monitoring is on ({@link setMonitoring}). */
  monitoring: boolean;
  /** Per op and kernel: calls, total and mean time, p50/p90/p99/max (recorded while monitoring was on). */
  ops: OpStats[];
  /** Every live {@link BatchScheduler}. */
  schedulers: SchedulerStats[];
  /** The packed-weights cache and every live memoized function. */
  caches: CacheStats[];
}

/** A snapshot of all statistics, ready for `JSON.stringify`. */
export function stats(): MonitorStats {
  return { monitoring: monitoringEnabled(), ops: opStats(), schedulers: schedulerStats(), caches: cacheStats() };
}

/** Zeroes every counter and histogram: ops, schedulers, caches (live gauges such as queue depth stay). */
export function resetStats(): void {
  resetOps();
  resetSources();
}

/** Options of {@link prometheus}. */
export interface PrometheusOptions {
  /** Metric name prefix (default 'simdtensor'). */
  prefix?: string;
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(v: number): string {
  return v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : Number.isNaN(v) ? 'NaN' : String(v);
}

function labels(l: Record<string, string>): string {
  const parts = Object.keys(l).map((k) => `${k}="${esc(l[k])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Builds the text format: each metric family once, with HELP and TYPE, then its samples. */
class Writer {
  private out: string[] = [];
  constructor(private readonly prefix: string) {}
  family(name: string, type: 'counter' | 'gauge' | 'summary' | 'histogram', help: string, samples: Array<[string, Record<string, string>, number]>): void {
    if (samples.length === 0) return;
    const full = `${this.prefix}_${name}`;
    this.out.push(`# HELP ${full} ${help}`, `# TYPE ${full} ${type}`);
    for (const [suffix, l, v] of samples) this.out.push(`${full}${suffix}${labels(l)} ${num(v)}`);
  }
  /** A summary in seconds from a millisecond summary. */
  summary(name: string, help: string, rows: Array<[Record<string, string>, LatencySummary]>): void {
    const s: Array<[string, Record<string, string>, number]> = [];
    for (const [l, h] of rows) {
      s.push(['', { ...l, quantile: '0.5' }, h.p50Ms / 1000], ['', { ...l, quantile: '0.9' }, h.p90Ms / 1000], ['', { ...l, quantile: '0.99' }, h.p99Ms / 1000]);
      s.push(['_sum', l, h.totalMs / 1000], ['_count', l, h.count]);
    }
    this.family(name, 'summary', help, s);
    this.family(`${name.replace(/_seconds$/, '')}_max_seconds`, 'gauge', `Largest sample of ${name}.`, rows.map(([l, h]) => ['', l, h.maxMs / 1000]));
  }
  text(): string {
    return this.out.length ? this.out.join('\n') + '\n' : '';
  }
}

/**
 * All statistics in the Prometheus text exposition format (version 0.0.4), e.g. for a `/metrics` route:
 * `app.get('/metrics', (_, res) => res.type('text/plain; version=0.0.4').send(prometheus()))`.
 * Latencies are summaries in seconds (p50/p90/p99, sum, count) plus a `_max_seconds` gauge; batch sizes are a
 * histogram. Give schedulers distinct names: the name is the `scheduler` label.
 */
export function prometheus(opts: PrometheusOptions | null = {}): string {
  opts = options('prometheus', opts);
  if (opts === null || typeof opts !== 'object') throw typeError('prometheus', `opts must be an object, got ${describe(opts)}`);
  const prefix = opts.prefix ?? 'simdtensor';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
    throw typeError('prometheus', `opts.prefix must be a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got ${describe(prefix)}`);
  const w = new Writer(prefix);
  const s = stats();

  const ol = (o: OpStats) => ({ op: o.op, kernel: o.kernel });
  w.family('op_calls_total', 'counter', 'Op calls recorded while monitoring was on, per op and kernel.', s.ops.map((o) => ['', ol(o), o.count]));
  w.summary('op_duration_seconds', 'Op wall time per call, per op and kernel.', s.ops.map((o) => [ol(o), o]));

  const sl = (x: SchedulerStats) => ({ scheduler: x.name });
  const sch = s.schedulers;
  w.family('scheduler_queue_depth', 'gauge', 'Requests waiting to be batched.', sch.map((x) => ['', sl(x), x.queueDepth]));
  w.family('scheduler_queued_rows', 'gauge', 'Rows in the requests waiting to be batched.', sch.map((x) => ['', sl(x), x.queuedRows]));
  w.family('scheduler_batch_delay_seconds', 'gauge', "How long a batch that does not fill waits for company now (maxDelayMs, or batchDelay 'adaptive''s current value).", sch.map((x) => ['', sl(x), x.batchDelayMs / 1000]));
  w.family('scheduler_waiting_for_room', 'gauge', "Requests waiting for room in a full queue (onFull: 'wait').", sch.map((x) => ['', sl(x), x.waitingForRoom]));
  w.family('scheduler_running_batches', 'gauge', 'Batches running now.', sch.map((x) => ['', sl(x), x.runningBatches]));
  w.family('scheduler_submitted_total', 'counter', 'Requests accepted by submit.', sch.map((x) => ['', sl(x), x.submitted]));
  w.family('scheduler_completed_total', 'counter', 'Requests resolved with their rows.', sch.map((x) => ['', sl(x), x.completed]));
  const rej: Array<[string, Record<string, string>, number]> = [];
  for (const x of sch) for (const [reason, v] of Object.entries(x.rejected)) rej.push(['', { ...sl(x), reason }, v]);
  w.family('scheduler_rejected_total', 'counter', 'Requests rejected, by reason.', rej);
  w.family('scheduler_batches_total', 'counter', 'Batches started.', sch.map((x) => ['', sl(x), x.batches]));
  const bs: Array<[string, Record<string, string>, number]> = [];
  for (const x of sch) {
    const sizes = Object.keys(x.batchSizes).map(Number);
    const max = sizes.length ? Math.max(...sizes) : 1;
    const bounds: number[] = [];
    for (let b = 1; b < max; b *= 2) bounds.push(b);
    bounds.push(max);
    let sum = 0;
    for (const sz of sizes) sum += sz * x.batchSizes[sz];
    for (const b of bounds) {
      let cum = 0;
      for (const sz of sizes) if (sz <= b) cum += x.batchSizes[sz];
      bs.push(['_bucket', { ...sl(x), le: String(b) }, cum]);
    }
    bs.push(['_bucket', { ...sl(x), le: '+Inf' }, x.batches], ['_sum', sl(x), sum], ['_count', sl(x), x.batches]);
  }
  w.family('scheduler_batch_size', 'histogram', 'Rows per batch.', bs);
  w.summary('scheduler_queue_wait_seconds', 'Time from submit until the request joined a running batch.', sch.map((x) => [sl(x), x.queueWait]));
  w.summary('scheduler_run_seconds', 'Time runBatch took, per batch.', sch.map((x) => [sl(x), x.runTime]));
  w.summary('scheduler_latency_seconds', 'Time from submit until the request resolved.', sch.map((x) => [sl(x), x.latency]));

  const cl = (c: CacheStats) => ({ cache: c.name, kind: c.kind });
  w.family('cache_hits_total', 'counter', 'Cache lookups answered from the cache.', s.caches.map((c) => ['', cl(c), c.hits]));
  w.family('cache_misses_total', 'counter', 'Cache lookups that had to compute.', s.caches.map((c) => ['', cl(c), c.misses]));
  w.family('cache_evictions_total', 'counter', 'Entries evicted to stay within the limits.', s.caches.map((c) => ['', cl(c), c.evictions]));
  w.family('cache_entries', 'gauge', 'Entries held.', s.caches.map((c) => ['', cl(c), c.entries]));
  w.family('cache_bytes', 'gauge', 'Bytes held.', s.caches.map((c) => ['', cl(c), c.bytes]));
  return w.text();
}
