/**
 * Monitoring: op timings behind `monitorHook`, scheduler and cache statistics, JSON and Prometheus export,
 * and Chrome trace windows.
 * @module
 */
export { setMonitoring, monitoringEnabled } from './recorder.js';
export type { OpStats, TraceEvent } from './recorder.js';
export { stats, resetStats, prometheus } from './stats.js';
export type { MonitorStats, PrometheusOptions } from './stats.js';
export { trace, startTrace } from './trace.js';
export type { TraceDocument, TraceOptions, TraceHandle } from './trace.js';
export { LatencyHistogram, SizeHistogram } from './histogram.js';
export type { LatencySummary } from './histogram.js';
export type { SchedulerStats, CacheStats } from './sources.js';
