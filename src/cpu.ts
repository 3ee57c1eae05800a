/**
 * CPU information and the ISA cap.
 * @module
 */
import { native, type NativeCpuInfo } from './native.js';
import { describe, typeError } from './errors.js';

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
  return r;
}

/** The active ISA cap. */
export function getMaxIsa(): Isa {
  return native.getMaxIsa() as Isa;
}

/** @internal The kernel name an op runs now (cached until the cap changes). */
export function kernelName(op: string): string {
  if (!kernelCache) kernelCache = native.cpuInfo().kernels;
  return kernelCache[op] ?? 'unknown';
}
