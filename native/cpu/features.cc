// Reads the CPU once: cpuid leaves, XCR0 (which register state the OS saves) and, on Linux, asks for AMX tile state.
#include "cpu/features.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <thread>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#define ST_X86 1
#elif defined(__aarch64__)
#define ST_ARM64 1
#if defined(__linux__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#endif
#endif

namespace simdtensor {
namespace {

#if ST_X86
void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) { __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]); }
uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}
bool request_amx_permission() {
#if defined(__linux__)
  // ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18. Without it the first tile load faults (SIGILL).
  return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
  return false;
#endif
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
  unsigned hw = std::thread::hardware_concurrency();
  f.logical_cpus = hw ? int(hw) : 1;
#if ST_X86
  unsigned r[4];
  cpuid(0, 0, r);
  unsigned max_leaf = r[0];
  char vendor[13];
  std::memcpy(vendor, &r[1], 4);
  std::memcpy(vendor + 4, &r[3], 4);
  std::memcpy(vendor + 8, &r[2], 4);
  vendor[12] = 0;
  f.vendor = vendor;
  cpuid(0x80000000u, 0, r);
  if (r[0] >= 0x80000004u) {
    char brand[49] = {0};
    for (unsigned i = 0; i < 3; i++) {
      cpuid(0x80000002u + i, 0, r);
      std::memcpy(brand + 16 * i, r, 16);
    }
    f.brand = brand;
    f.brand.erase(0, f.brand.find_first_not_of(' '));
    f.brand.erase(f.brand.find_last_not_of(' ') + 1);
  }
  cpuid(1, 0, r);
  const unsigned ecx1 = r[2];
  f.sse42 = ecx1 & (1u << 20);
  const bool osxsave = ecx1 & (1u << 27);
  f.avx = ecx1 & (1u << 28);
  f.fma = ecx1 & (1u << 12);
  f.f16c = ecx1 & (1u << 29);
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  f.os_avx = (xcr0 & 0x6) == 0x6;                   // XMM | YMM
  f.os_avx512 = f.os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask | ZMM_Hi256 | Hi16_ZMM
  f.os_amx = (xcr0 & 0x60000) == 0x60000;           // XTILECFG | XTILEDATA
  if (max_leaf >= 7) {
    cpuid(7, 0, r);
    const unsigned ebx = r[1], ecx = r[2], edx = r[3];
    f.avx2 = f.os_avx && f.avx && (ebx & (1u << 5));
    f.fma = f.fma && f.os_avx;
    f.f16c = f.f16c && f.os_avx;
    f.avx512f = f.os_avx512 && (ebx & (1u << 16));
    f.avx512dq = f.avx512f && (ebx & (1u << 17));
    f.avx512bw = f.avx512f && (ebx & (1u << 30));
    f.avx512vl = f.avx512f && (ebx & (1u << 31));
    f.avx512vnni = f.avx512f && (ecx & (1u << 11));
    f.avx512fp16 = f.avx512f && (edx & (1u << 23));
    f.amx_bf16 = f.os_amx && (edx & (1u << 22));
    f.amx_tile = f.os_amx && (edx & (1u << 24));
    f.amx_int8 = f.os_amx && (edx & (1u << 25));
    if (r[0] >= 1) {
      cpuid(7, 1, r);
      f.avxvnni = f.avx2 && (r[0] & (1u << 4));
      f.avx512bf16 = f.avx512f && (r[0] & (1u << 5));
    }
  }
  if (f.amx_tile) f.amx_permitted = request_amx_permission();
#elif ST_ARM64
  f.vendor = "arm";
  f.neon = true;
#if defined(__linux__)
  unsigned long hwcap = getauxval(AT_HWCAP);
  unsigned long hwcap2 = getauxval(AT_HWCAP2);
  f.neon_dot = hwcap & HWCAP_ASIMDDP;
  f.neon_fp16 = (hwcap & HWCAP_FPHP) && (hwcap & HWCAP_ASIMDHP);
#ifdef HWCAP2_I8MM
  f.neon_i8mm = hwcap2 & HWCAP2_I8MM;
#else
  (void)hwcap2;
#endif
#elif defined(__APPLE__)
  f.neon_dot = true;
  f.neon_fp16 = true;
#endif
#endif
  return f;
}

struct IsaEntry { const char* name; Isa isa; };
const IsaEntry kIsaNames[] = {
    {"scalar", Isa::kScalar},         {"avx2", Isa::kAvx2},           {"avxvnni", Isa::kAvxVnni},
    {"avx512", Isa::kAvx512},         {"avx512vnni", Isa::kAvx512Vnni}, {"avx512bf16", Isa::kAvx512Bf16},
    {"avx512fp16", Isa::kAvx512Fp16}, {"amx", Isa::kAmx},             {"neon", Isa::kNeon},
    {"neondot", Isa::kNeonDot},       {"neonfp16", Isa::kNeonFp16},   {"neoni8mm", Isa::kNeonI8mm},
};

Isa initial_cap() {
  Isa best = best_supported_isa();
  const char* env = std::getenv("SIMDTENSOR_MAX_ISA");
  if (!env || !*env) return best;
  Isa want;
  if (!parse_isa(env, &want)) return best;  // the JS layer reports unknown names as a RangeError at load
  if (!isa_supported(want)) {
    // Capping above what the CPU has is a no-op; capping to an ISA this CPU lacks falls to the
    // highest supported level below it (e.g. 'avx512fp16' on a CPU with avx512bf16 only).
    Isa best_below = Isa::kScalar;
    for (const auto& e : kIsaNames)
      if (int(e.isa) <= int(want) && isa_supported(e.isa) && int(e.isa) > int(best_below)) best_below = e.isa;
    return best_below;
  }
  return want;
}

std::atomic<int>& cap_storage() {
  static std::atomic<int> cap{int(initial_cap())};
  return cap;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

bool isa_supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return f.avx2 && f.fma && f.f16c;
    case Isa::kAvxVnni: return f.avx2 && f.fma && f.f16c && f.avxvnni;
    case Isa::kAvx512: return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx2 && f.fma && f.f16c;
    case Isa::kAvx512Vnni: return isa_supported(Isa::kAvx512) && f.avx512vnni;
    case Isa::kAvx512Bf16: return isa_supported(Isa::kAvx512) && f.avx512bf16;
    case Isa::kAvx512Fp16: return isa_supported(Isa::kAvx512) && f.avx512fp16;
    case Isa::kAmx: return isa_supported(Isa::kAvx512Bf16) && f.amx_tile && f.amx_int8 && f.amx_bf16 && f.amx_permitted;
    case Isa::kNeon: return f.neon;
    case Isa::kNeonDot: return f.neon && f.neon_dot;
    case Isa::kNeonFp16: return f.neon && f.neon_fp16;
    case Isa::kNeonI8mm: return f.neon && f.neon_i8mm && f.neon_dot;
  }
  return false;
}

Isa best_supported_isa() {
  Isa best = Isa::kScalar;
  for (const auto& e : kIsaNames)
    if (isa_supported(e.isa) && int(e.isa) > int(best)) best = e.isa;
  return best;
}

const char* isa_name(Isa isa) {
  for (const auto& e : kIsaNames)
    if (e.isa == isa) return e.name;
  return "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  std::string n;
  for (char c : name)
    if (c != '-' && c != '_' && c != ' ') n.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  for (const auto& e : kIsaNames)
    if (n == e.name) {
      *out = e.isa;
      return true;
    }
  return false;
}

Isa max_isa() { return Isa(cap_storage().load(std::memory_order_relaxed)); }

Isa set_max_isa(Isa isa) {
  Isa best = best_supported_isa();
  if (int(isa) > int(best)) isa = best;
  cap_storage().store(int(isa), std::memory_order_relaxed);
  return isa;
}

bool isa_allowed(Isa v) { return int(v) <= int(max_isa()) && isa_supported(v); }

}  // namespace simdtensor
