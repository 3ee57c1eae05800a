// Runs every registered native test; exit status 1 on any failure. Optional argv[1]: substring filter.
// Every skipped variant is counted per test and named in the summary (what went untested on this CPU).
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include "cpu/features.h"
#include "tests/harness.h"

namespace sttest {
std::vector<Test>& registry() {
  static std::vector<Test> r;
  return r;
}
int g_failures = 0;
namespace {
const char* g_current = "";
// variant -> (why, tests that skipped it)
std::map<std::string, std::pair<std::string, std::vector<std::string>>> g_skipped;
int g_skip_count = 0;
}  // namespace
void skip(const char* what, const char* why) {
  auto& e = g_skipped[what];
  if (e.first.empty()) e.first = why;
  if (e.second.empty() || e.second.back() != g_current) {
    e.second.push_back(g_current);
    g_skip_count++;
    std::printf("  SKIPPED %s in %s: %s\n", what, g_current, why);
  }
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
    sttest::g_current = t.name;
    t.fn();
    if (sttest::g_failures == before) {
      passed++;
      std::printf("ok   %s\n", t.name);
    } else {
      failed++;
      std::printf("FAIL %s\n", t.name);
    }
  }
  std::printf("native: %d passed, %d failed, %d variant runs skipped (%zu variants)\n", passed, failed,
              sttest::g_skip_count, sttest::g_skipped.size());
  for (const auto& s : sttest::g_skipped) {
    std::printf("  skipped %s (%s) in %zu tests:", s.first.c_str(), s.second.first.c_str(), s.second.second.size());
    for (const auto& t : s.second.second) std::printf(" %s", t.c_str());
    std::printf("\n");
  }
  return failed ? 1 : 0;
}
