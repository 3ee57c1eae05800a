/**
 * CPU information and the ISA cap.
 * @module
 */
import { bumpMaxIsaEpoch, native, type NativeCpuInfo } from './native.js';
import { describe, rangeError, typeError } from './errors.js';

/** ISA levels a cap can name. x86: scalar < avx2 < avxvnni < avx512 < avx512vnni < avx512bf16 < avx512fp16 < amx; ARM: scalar < neon < neondot < neonfp16 < neoni8mm. */
export type Isa =
  | 'scalar'
  | 'avx2'
  | 'avxvnni'
  | 'avx512'
  | 'avx512vnni'
  | 'avx512bf16'
  | 'avx512fp16'
  | 'amx'
  | 'neon'
  | 'neondot'
  | 'neonfp16'
  | 'neoni8mm';

/** What {@link cpuInfo} returns. */
export interface CpuInfo extends Omit<NativeCpuInfo, 'bestIsa' | 'maxIsa' | 'supportedIsas'> {
  /** Highest ISA level this CPU runs. */
  bestIsa: Isa;
  /** The active cap (SIMDTENSOR_MAX_ISA, setMaxIsa). */
  maxIsa: Isa;
  /** Every level this CPU can run. */
  supportedIsas: Isa[];
}

let kernelCache: Record<string, string> | null = null;

/** Detected CPU features, the ISA cap, and the kernel each op will run. */
export function cpuInfo(): CpuInfo {
  return native.cpuInfo() as CpuInfo;
}

/**
 * Caps the ISA used by every kernel (for tests, benchmarks and cautious users). Throws a RangeError for an unknown
 * name or an ISA this CPU lacks. Returns the effective cap. Also settable with the SIMDTENSOR_MAX_ISA environment
 * variable (there, a level above the CPU's best falls to the best level below it).
 */
export function setMaxIsa(isa: Isa): Isa {
  if (typeof isa !== 'string') throw typeError('setMaxIsa', `isa must be a string, got ${describe(isa)}`);
  const r = native.setMaxIsa(isa) as Isa;
  kernelCache = null;
  bumpMaxIsaEpoch();
  return r;
}

/** The active ISA cap. */
export function getMaxIsa(): Isa {
  return native.getMaxIsa() as Isa;
}

/**
 * The kernel `op` (a {@link cpuInfo} `kernels` key, e.g. `'matmul.bf16'` or `'linear.int8'`) runs for `m` rows
 * under the current cap. For the ops with a small-M kernel this is the driver's own choice at that M (on AMX panels
 * the half small-M kernel takes one row only, the tiles from two); other ops name their `kernels` row at any M.
 * Throws a TypeError for a non-string op or a non-number m, a RangeError for an unknown op or an m that is not a
 * non-negative integer.
 */
export function kernelForM(op: string, m: number): string {
  if (typeof op !== 'string') throw typeError('kernelForM', `op must be a string, got ${describe(op)}`);
  if (typeof m !== 'number') throw typeError('kernelForM', `m must be a number, got ${describe(m)}`);
  if (!Number.isInteger(m) || m < 0) throw rangeError('kernelForM', `m must be a non-negative integer, got ${m}`);
  return native.kernelForM(op, m);
}

/** @internal The kernel name an op runs now (cached until the cap changes). */
export function kernelName(op: string): string {
  if (!kernelCache) kernelCache = native.cpuInfo().kernels;
  return kernelCache[op] ?? 'unknown';
}
