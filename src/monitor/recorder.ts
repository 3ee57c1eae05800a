/**
 * The op recorder behind `monitorHook`: per op and kernel, call counts and a latency histogram; while a trace
 * window is open, every op also becomes a Chrome trace event. Off by default.
 * @module
 */
import { monitorHook } from '../ops/registry.js';
import { describe, typeError } from '../errors.js';
import { LatencyHistogram, LatencySummary } from './histogram.js';

/** Statistics of one (op, kernel) pair. Times in milliseconds. */
export interface OpStats extends LatencySummary {
  /** Op name, e.g. 'matmul'. */
  op: string;
  /** Kernel that ran, e.g. 'f32_gemm_8x32__avx512f'. */
  kernel: string;
}

/** One Chrome trace event (the "Trace Event Format": `ph` 'X' complete, 'C' counter, 'M' metadata, 'i' instant). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'C' | 'M' | 'i' | 'b' | 'e';
  /** Start, microseconds (performance.now() time base). */
  ts: number;
  /** Duration, microseconds ('X' only). */
  dur?: number;
  pid: number;
  tid: number;
  cat?: string;
  /** Async-event id ('b'/'e': async ops overlap, so each is its own span). */
  id?: number;
  /** Instant-event scope ('i' only): 't' thread, 'p' process, 'g' global. */
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

/** @internal An open trace window. */
export interface TraceSink {
  events: TraceEvent[];
  maxEvents: number;
  dropped: number;
}

/** @internal Open trace windows (usually zero or one). */
export const sinks: TraceSink[] = [];

/** @internal Thread id of ops run on the JS thread in traces. */
export const OPS_TID = 1;

/** @internal Names of trace thread ids (tid → name), emitted as metadata when a trace closes. */
export const threadNames = new Map<number, string>([[OPS_TID, 'ops (JS thread)']]);

let nextTid = 100;
/** @internal A fresh trace thread id with a display name (schedulers use one per batch slot). */
export function allocTid(name: string): number {
  const tid = nextTid++;
  threadNames.set(tid, name);
  return tid;
}

/** @internal Appends an event to every open trace window. */
export function emitTrace(ev: TraceEvent): void {
  for (let i = 0; i < sinks.length; i++) {
    const s = sinks[i];
    if (s.events.length < s.maxEvents) s.events.push(ev);
    else s.dropped++;
  }
}

const table = new Map<string, Map<string, LatencyHistogram>>();
let userOn = false;
const pid = typeof process !== 'undefined' ? process.pid : 0;

function record(op: string, kernel: string, startMs: number): void {
  const d = performance.now() - startMs;
  let byKernel = table.get(op);
  if (byKernel === undefined) table.set(op, (byKernel = new Map()));
  let h = byKernel.get(kernel);
  if (h === undefined) byKernel.set(kernel, (h = new LatencyHistogram()));
  h.add(d);
  if (sinks.length !== 0) {
    if (op.endsWith('Async')) {
      // Async ops (issue 6's executor) overlap one another: nestable async events, not complete events.
      const id = ++asyncId;
      emitTrace({ name: op, cat: kernel, ph: 'b', id, ts: startMs * 1000, pid, tid: OPS_TID });
      emitTrace({ name: op, cat: kernel, ph: 'e', id, ts: (startMs + d) * 1000, pid, tid: OPS_TID });
    } else {
      emitTrace({ name: op, cat: kernel, ph: 'X', ts: startMs * 1000, dur: d * 1000, pid, tid: OPS_TID });
    }
  }
}
let asyncId = 0;

/** @internal Turns the hook on while monitoring is enabled or a trace window is open. */
export function refreshHook(): void {
  monitorHook.record = record;
  monitorHook.on = userOn || sinks.length > 0;
}

/**
 * Turns op monitoring on or off (off by default). When on, every op adds its time to a per-(op, kernel)
 * histogram: about 0.1–0.3 µs per op (measured figures in docs/serving.md). Scheduler and cache statistics are
 * always collected. Returns the previous setting.
 */
export function setMonitoring(on: boolean): boolean {
  if (typeof on !== 'boolean') throw typeError('setMonitoring', `on must be a boolean, got ${describe(on)}`);
  const prev = userOn;
  userOn = on;
  refreshHook();
  return prev;
}

/** True while op monitoring is enabled with {@link setMonitoring} (trace windows turn recording on by themselves). */
export function monitoringEnabled(): boolean {
  return userOn;
}

/** @internal Per-(op, kernel) statistics, sorted by op then kernel. */
export function opStats(): OpStats[] {
  const out: OpStats[] = [];
  for (const [op, byKernel] of table) for (const [kernel, h] of byKernel) out.push({ op, kernel, ...h.summary() });
  out.sort((a, b) => (a.op < b.op ? -1 : a.op > b.op ? 1 : a.kernel < b.kernel ? -1 : a.kernel > b.kernel ? 1 : 0));
  return out;
}

/** @internal Forgets all op statistics. */
export function resetOps(): void {
  table.clear();
}

