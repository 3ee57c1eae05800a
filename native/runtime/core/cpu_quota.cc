// cgroup v1/v2 CPU quota reading. Only plain file reads; any missing file means "no limit here".
#include "runtime/core/cpu_quota.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace simdtensor {

namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

bool read_long(const std::string& path, long long* v) {
  std::string s;
  if (!read_file(path, &s)) return false;
  char* end = nullptr;
  *v = std::strtoll(s.c_str(), &end, 10);
  return end != s.c_str();
}

// "/a/b/c" -> {"/a/b/c", "/a/b", "/a", ""}
std::vector<std::string> ancestors(std::string path) {
  std::vector<std::string> out;
  while (!path.empty() && path.back() == '/') path.pop_back();
  for (;;) {
    out.push_back(path);
    if (path.empty()) break;
    const size_t slash = path.rfind('/');
    path = slash == std::string::npos ? std::string() : path.substr(0, slash);
  }
  return out;
}

// Smallest positive limit over the cgroup's ancestors under `base`; 0 if none.
template <class Read>
double min_over_ancestors(const std::string& base, const std::string& path, Read read) {
  double best = 0;
  for (const std::string& p : ancestors(path)) {
    const double v = read(base + p);
    if (v > 0 && (best == 0 || v < best)) best = v;
  }
  return best;
}

double v2_limit(const std::string& dir) {
  std::string s;
  return read_file(dir + "/cpu.max", &s) ? parse_cpu_max(s) : 0;
}

double v1_limit(const std::string& dir) {
  long long quota = 0, period = 0;
  if (!read_long(dir + "/cpu.cfs_quota_us", &quota) || !read_long(dir + "/cpu.cfs_period_us", &period)) return 0;
  if (quota <= 0 || period <= 0) return 0;  // -1 = unlimited
  return double(quota) / double(period);
}

}  // namespace

double parse_cpu_max(const std::string& text) {
  std::istringstream in(text);
  std::string quota;
  long long period = 0;
  if (!(in >> quota)) return 0;
  if (quota == "max") return 0;
  if (!(in >> period) || period <= 0) return 0;
  char* end = nullptr;
  const long long q = std::strtoll(quota.c_str(), &end, 10);
  if (end == quota.c_str() || q <= 0) return 0;
  return double(q) / double(period);
}

double cgroup_cpu_limit_at(const std::string& proc_self_cgroup, const std::string& root) {
  double best = 0;
  auto take = [&](double v) {
    if (v > 0 && (best == 0 || v < best)) best = v;
  };
  std::istringstream lines(proc_self_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    // hierarchy-id:controller-list:path
    const size_t c1 = line.find(':');
    if (c1 == std::string::npos) continue;
    const size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    const std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string path = line.substr(c2 + 1);
    if (line.compare(0, c1, "0") == 0 && controllers.empty()) {
      take(min_over_ancestors(root, path, v2_limit));
      take(min_over_ancestors(root + "/unified", path, v2_limit));
      continue;
    }
    std::istringstream cs(controllers);
    std::string c;
    bool has_cpu = false;
    while (std::getline(cs, c, ',')) has_cpu |= c == "cpu";
    if (!has_cpu) continue;
    for (const char* mount : {"/cpu", "/cpu,cpuacct", "/cpuacct,cpu"})
      take(min_over_ancestors(root + mount, path, v1_limit));
  }
  return best;
}

double cgroup_cpu_limit() {
#if defined(__linux__)
  std::string self;
  if (!read_file("/proc/self/cgroup", &self)) return 0;
  return cgroup_cpu_limit_at(self, "/sys/fs/cgroup");
#else
  return 0;
#endif
}

}  // namespace simdtensor
