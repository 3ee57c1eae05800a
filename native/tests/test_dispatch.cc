// The variant tables and cpuInfo() rows: under every cap this CPU supports, each table selects its first
// allowed variant, and every cpuInfo() row names a kernel. ST_DUMP_OP_KERNELS=1 prints the rows per cap.
#include <cstdlib>
#include <string>

#include "cpu/dispatch.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
const char* const kCaps[] = {"scalar", "avx2",   "avxvnni",  "avx512",   "avx512vnni", "avx512bf16",
                             "avx512fp16", "amx", "neon", "neondot", "neonfp16", "neoni8mm"};

// select() must return the first variant the cap allows, and an allowed one.
template <class V>
bool first_allowed(const VariantTable<V>& t, const char** why) {
  const V& got = t.select();
  for (const V& v : t) {
    if (!isa_allowed(v.isa)) continue;
    if (&v != &got) *why = got.name;
    return &v == &got;
  }
  *why = "nothing allowed";
  return false;
}
}  // namespace

TEST(dispatch_tables_select_first_allowed_under_every_cap) {
  const Isa saved = max_isa();
  for (const char* name : kCaps) {
    Isa cap;
    CHECK(parse_isa(name, &cap), "%s", name);
    if (!isa_supported(cap)) continue;
    set_max_isa(cap);
    const char* why = "";
    CHECK(first_allowed(f32_gemm_table, &why), "f32_gemm under %s: %s", name, why);
    CHECK(first_allowed(f32_eltwise_table, &why), "f32_eltwise under %s: %s", name, why);
    CHECK(first_allowed(f32_train_table, &why), "f32_train under %s: %s", name, why);
    CHECK(first_allowed(f32_spmm_table, &why), "f32_spmm under %s: %s", name, why);
    CHECK(first_allowed(s8_spmm_table, &why), "s8_spmm under %s: %s", name, why);
    CHECK(first_allowed(s8_gemm_table, &why), "s8_gemm under %s: %s", name, why);
    CHECK(first_allowed(quantize_table, &why), "quantize under %s: %s", name, why);
    CHECK(first_allowed(f32_probe_table, &why), "f32_probe under %s: %s", name, why);
    CHECK(first_allowed(f32_transpose_table, &why), "f32_transpose under %s: %s", name, why);
    for (const HalfCvtVariant& v : half_cvt_table) {
      const HalfCvtVariant& got = half_cvt_select(v.kind);
      CHECK(got.kind == v.kind && isa_allowed(got.isa), "half_cvt under %s: %s", name, got.name);
    }
    for (const S8ProbeVariant& v : s8_probe_table) {
      const S8ProbeVariant* got = s8_probe_table.best(field_is(&S8ProbeVariant::amx, v.amx));
      CHECK(!got || (got->amx == v.amx && isa_allowed(got->isa)), "s8_probe under %s", name);
      CHECK(got || !isa_allowed(v.isa), "s8_probe under %s: %s allowed but not chosen", name, v.name);
    }
    OpKernel rows[128];
    const size_t n = op_kernels(rows, 128);
    CHECK(n > 0 && n <= 128 && op_kernels(nullptr, 0) == n, "%zu rows", n);
    for (size_t i = 0; i < n; i++) {
      CHECK(rows[i].op && rows[i].kernel && rows[i].kernel[0], "row %zu under %s", i, name);
      if (std::getenv("ST_DUMP_OP_KERNELS")) std::printf("  %s %s %s\n", name, rows[i].op, rows[i].kernel);
    }
  }
  set_max_isa(saved);
}

TEST(dispatch_find_by_name) {
  for (const F32GemmVariant& v : f32_gemm_table) CHECK(f32_gemm_table.find(v.name) == &v, "%s", v.name);
  for (const HalfGemmVariant& v : half_gemm_table) CHECK(half_gemm_table.find(v.name) == &v, "%s", v.name);
  CHECK(!s8_gemm_table.find("no_such_kernel"), "found a kernel that does not exist");
}
