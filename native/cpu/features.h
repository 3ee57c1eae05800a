// CPU feature detection (cpuid + XCR0 + Linux AMX permission) and the ISA cap used by dispatch.
#pragma once
#include <cstdint>
#include <string>

namespace simdtensor {

// ISA levels, ordered: a cap at level L allows every variant whose level is <= L.
// x86 and ARM levels share one ladder; a variant of the other architecture is never compiled in.
enum class Isa : int {
  kScalar = 0,
  kAvx2 = 10,        // AVX2 + FMA + F16C
  kAvxVnni = 11,     // + AVX-VNNI (ymm vpdpbusd)
  kAvx512 = 20,      // AVX-512 F/BW/VL/DQ
  kAvx512Vnni = 21,  // + VNNI
  kAvx512Bf16 = 22,  // + BF16
  kAvx512Fp16 = 23,  // + FP16
  kAmx = 30,         // AMX-TILE + INT8 + BF16 (permission granted)
  kNeon = 110,       // ARMv8 NEON (baseline on arm64)
  kNeonDot = 111,    // + dotprod
  kNeonFp16 = 112,   // + fp16 arithmetic
  kNeonI8mm = 113,   // + i8mm
};

struct CpuFeatures {
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avxvnni = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avx512fp16 = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
  bool amx_permitted = false;  // Linux arch_prctl(ARCH_REQ_XCOMP_PERM) succeeded
  bool neon = false, neon_dot = false, neon_fp16 = false, neon_i8mm = false;
  bool os_avx = false, os_avx512 = false, os_amx = false;  // XCR0 says the OS saves that state
  std::string vendor, brand;
  int logical_cpus = 1;
};

// Read once (thread-safe static init); later calls return the same object.
const CpuFeatures& cpu_features();

// Highest ISA level this CPU can run.
Isa best_supported_isa();
// True when this CPU (and OS) can execute code of level `isa`.
bool isa_supported(Isa isa);

const char* isa_name(Isa isa);
// Parses "scalar", "avx2", "avxvnni", "avx512", "avx512vnni", "avx512bf16", "avx512fp16", "amx",
// "neon", "neondot", "neonfp16", "neoni8mm" (case-insensitive). Returns false if unknown.
bool parse_isa(const std::string& name, Isa* out);

// The active cap: min(best supported, SIMDTENSOR_MAX_ISA, set_max_isa()).
Isa max_isa();
// Sets the cap (clamped to what the CPU supports). Returns the effective cap.
Isa set_max_isa(Isa isa);
// Same ladder comparison used everywhere: may a variant of level `v` run under the current cap?
bool isa_allowed(Isa v);

}  // namespace simdtensor
