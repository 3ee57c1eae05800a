/**
 * Machine limits measured in the same run as the trials: compute peaks (FMA / dot-product throughput loops on the
 * best ISA, one core) and one core's streaming read bandwidth over a buffer the size of a trial's weights. They
 * bound each trial (a roofline: min(peak × threads, bandwidth × flops per weight byte)).
 * @module
 */
import { stats, type Stats } from './measure.js';

/** A peak probe: runs for about `ms` milliseconds and returns G(FL)OP/s on one core. */
export type PeakProbe = (ms: number) => number;

/** What the addon may export for probes (families add theirs; any of these may be absent). */
interface ProbeAddon {
  probeF32Peak?: (ms: number) => number;
  probeReadBandwidth?: (bytes: number, ms: number) => number;
  [name: string]: unknown;
}

let addon: ProbeAddon | null = null;
async function native(): Promise<ProbeAddon> {
  addon ??= (await import('../src/native.js')).native as unknown as ProbeAddon;
  return addon;
}

/**
 * Native function names tried for each peak name, first found wins. A family adds its probe by exporting it from
 * the addon under one of these names, or by exporting `probes` from its trials module.
 */
export const PEAK_FUNCTIONS: Record<string, (string | [string, number])[]> = {
  f32: ['probeF32Peak'],
  vnni: ['probeVnniPeak', 'probeS8Peak', 'probeInt8Peak'],
  // probeHalfPeak(kind, ms): kind 0 fp16 FMA, 1 bf16 dot product; null where no allowed ISA has that unit.
  bf16: [['probeHalfPeak', 1], 'probeBf16Peak'],
  f16: [['probeHalfPeak', 0], 'probeF16Peak'],
};

/** The unit that bounds a family's kernels on a CPU without its own (they convert to it). */
export const PEAK_FALLBACK: Record<string, string> = { f16: 'f32', bf16: 'f32' };

/** Probes contributed by family modules (name → probe), merged in by run.ts. */
export const extraProbes: Record<string, PeakProbe> = {};

/** Resolves a peak probe by name, or null if this build has none. */
export async function peakProbe(name: string): Promise<{ fn: PeakProbe; source: string } | null> {
  if (extraProbes[name]) return { fn: extraProbes[name], source: `family probe '${name}'` };
  const a = await native();
  for (const entry of PEAK_FUNCTIONS[name] ?? []) {
    const [fn, kind] = typeof entry === 'string' ? [entry, undefined] : entry;
    if (typeof a[fn] !== 'function') continue;
    // Probes answer a number, or an object with the rate ({ gops, kernel }), or null.
    const raw = a[fn] as (...args: number[]) => number | { gops?: number; gflops?: number } | null;
    const f = (...args: number[]) => {
      const r = raw(...args);
      return r === null || typeof r === 'number' ? r : (r.gops ?? r.gflops ?? null);
    };
    const probe: PeakProbe = kind === undefined ? (ms) => f(ms) as number : (ms) => f(kind, ms) as number;
    // A probe that answers null has no unit for this on the allowed ISAs.
    if (probe(1) === null) continue;
    return { fn: probe, source: kind === undefined ? `native.${fn}` : `native.${fn}(${kind})` };
  }
  return null;
}

/** A measured limit. */
export interface ProbeResult {
  /** GFLOP/s, GOP/s or GB/s, one core. */
  value: Stats;
  source: string;
}

/** Median of `reps` probe runs of `ms` each. */
export async function measurePeak(name: string, reps = 7, ms = 40): Promise<ProbeResult | null> {
  const p = await peakProbe(name);
  if (!p) return null;
  p.fn(ms); // warm the clock and the caches
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(p.fn(ms));
  return { value: stats(xs), source: p.source };
}

/** One core's streaming read bandwidth (GB/s) over `bytes`, median of `reps` runs; null if the addon has no probe. */
export async function measureBandwidth(bytes: number, reps = 7, ms = 40): Promise<ProbeResult | null> {
  const a = await native();
  if (typeof a.probeReadBandwidth !== 'function') return null;
  const b = Math.max(4096, Math.round(bytes));
  a.probeReadBandwidth(b, ms);
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(a.probeReadBandwidth(b, ms));
  return { value: stats(xs), source: 'native.probeReadBandwidth' };
}

/** The roofline bound of a trial at `threads`, from the measured limits. */
export interface Bound {
  /** Attainable rate in the trial's unit per second (GFLOP/s or GOP/s). */
  value: number;
  kind: 'compute' | 'bandwidth';
  /** How it was derived, for the report. */
  how: string;
}

/**
 * min(peak × threads, bandwidth × flops / weight bytes). The bandwidth is one core's, measured over the trial's
 * weight bytes; peaks scale linearly with threads (an assumption the report states).
 */
export function roofline(peak: number | null, bandwidthGBs: number | null, flops: number, weightBytes: number, threads: number): Bound | null {
  const compute = peak !== null ? peak * threads : null;
  const bw = bandwidthGBs !== null && weightBytes > 0 ? (bandwidthGBs * flops) / weightBytes : null;
  if (compute === null && bw === null) return null;
  if (bw !== null && (compute === null || bw < compute))
    return { value: bw, kind: 'bandwidth', how: `${bandwidthGBs!.toFixed(1)} GB/s × ${(flops / weightBytes).toFixed(2)} op/B` };
  return { value: compute!, kind: 'compute', how: threads > 1 ? `${peak!.toFixed(0)} × ${threads} threads` : `${peak!.toFixed(0)} peak` };
}
