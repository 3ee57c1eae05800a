// Runs every registered native test; exit status 1 on any failure. Optional argv[1]: substring filter.
#include <cstdio>
#include <cstring>
#include "cpu/features.h"
#include "tests/harness.h"

namespace sttest {
std::vector<Test>& registry() {
  static std::vector<Test> r;
  return r;
}
int g_failures = 0;
int g_skips = 0;
void skip(const char* what, const char* why) {
  g_skips++;
  std::printf("  SKIPPED %s: %s\n", what, why);
}
}  // namespace sttest

int main(int argc, char** argv) {
  using namespace simdtensor;
  const auto& f = cpu_features();
  std::printf("cpu: %s %s, best isa: %s\n", f.vendor.c_str(), f.brand.c_str(), isa_name(best_supported_isa()));
  int passed = 0, failed = 0;
  for (const auto& t : sttest::registry()) {
    if (argc > 1 && !std::strstr(t.name, argv[1])) continue;
    int before = sttest::g_failures;
    t.fn();
    if (sttest::g_failures == before) {
      passed++;
      std::printf("ok   %s\n", t.name);
    } else {
      failed++;
      std::printf("FAIL %s\n", t.name);
    }
  }
  std::printf("native: %d passed, %d failed, %d variants skipped (CPU lacks the ISA)\n", passed, failed, sttest::g_skips);
  return failed ? 1 : 0;
}
