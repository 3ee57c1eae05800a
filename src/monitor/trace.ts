/**
 * Trace windows: record every op (and every scheduler batch) for a while as Chrome trace-event JSON, viewable
 * in chrome://tracing or https://ui.perfetto.dev.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { refreshHook, sinks, threadNames, TraceEvent, TraceSink } from './recorder.js';

export type { TraceEvent } from './recorder.js';

/** A Chrome trace (JSON object format). `JSON.stringify` it to a file and open it in Perfetto. */
export interface TraceDocument {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: {
    /** Window start and end, ms on the performance.now() clock. */
    startMs: number;
    endMs: number;
    /** Events not recorded because the window held `maxEvents` already. */
    droppedEvents: number;
  };
}

/** Options of {@link trace} and {@link startTrace}. */
export interface TraceOptions {
  /** Most events kept (default 100 000); later ones are counted in `otherData.droppedEvents`. */
  maxEvents?: number;
}

/** An open trace window. */
export interface TraceHandle {
  /** Closes the window and returns what it recorded (the same document if called again). */
  stop(): TraceDocument;
}

const pid = typeof process !== 'undefined' ? process.pid : 0;

/**
 * Opens a trace window: until `stop()`, every op is recorded (op monitoring is switched on for the window) and
 * every scheduler batch appears as a span on its own track. Several windows may be open at once.
 */
export function startTrace(opts: TraceOptions | null = {}): TraceHandle {
  opts = options('startTrace', opts);
  const fn = 'startTrace';
  if (opts === null || typeof opts !== 'object') throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
  const maxEvents = opts.maxEvents ?? 100_000;
  if (typeof maxEvents !== 'number' || !Number.isInteger(maxEvents) || maxEvents < 1)
    throw rangeError(fn, `opts.maxEvents must be an integer >= 1, got ${describe(maxEvents)}`);
  const sink: TraceSink = { events: [], maxEvents, dropped: 0 };
  const startMs = performance.now();
  sinks.push(sink);
  refreshHook();
  let doc: TraceDocument | null = null;
  return {
    stop(): TraceDocument {
      if (doc) return doc;
      const i = sinks.indexOf(sink);
      if (i >= 0) sinks.splice(i, 1);
      refreshHook();
      const tids = new Set<number>();
      for (const e of sink.events) tids.add(e.tid);
      const meta: TraceEvent[] = [{ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: 'simdtensor' } }];
      for (const tid of tids) {
        const name = threadNames.get(tid);
        if (name !== undefined) meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name } });
      }
      doc = {
        traceEvents: meta.concat(sink.events),
        displayTimeUnit: 'ms',
        otherData: { startMs, endMs: performance.now(), droppedEvents: sink.dropped },
      };
      return doc;
    },
  };
}

/**
 * Records a window of ops as a Chrome trace: for `window` ms if it is a number, or while the function `window`
 * runs (awaiting it if it returns a promise; if it throws, the window closes and the error propagates).
 */
export async function trace(window: number | (() => unknown), opts: TraceOptions | null = {}): Promise<TraceDocument> {
  opts = options('trace', opts);
  if (typeof window === 'number') {
    if (!(window >= 0) || window > 2 ** 31 - 1) throw rangeError('trace', `window must be a number of ms in [0, ${2 ** 31 - 1}] or a function, got ${window}`);
    const h = startTrace(opts);
    await new Promise((res) => setTimeout(res, window));
    return h.stop();
  }
  if (typeof window !== 'function') throw typeError('trace', `window must be a number of ms or a function, got ${describe(window)}`);
  const h = startTrace(opts);
  try {
    await window();
  } finally {
    h.stop();
  }
  return h.stop();
}
