// The cgroup CPU quota (v2 cpu.max, v1 cfs_quota_us/cfs_period_us) as a CPU count, for the default thread count.
#pragma once
#include <string>

namespace simdtensor {

// CPUs allowed by the cgroup quota of this process (e.g. 1.5), or 0 when there is no quota or no cgroup fs.
double cgroup_cpu_limit();

// Testable core: `proc_self_cgroup` is the text of /proc/self/cgroup, `root` the cgroup mount root. Walks from the
// process's cgroup up to the root (nested limits: the smallest wins) under the v2 hierarchy (root, root/unified)
// and the v1 cpu controller (root/cpu, root/cpu,cpuacct, root/cpuacct,cpu).
double cgroup_cpu_limit_at(const std::string& proc_self_cgroup, const std::string& root);

// "max 100000" -> 0, "150000 100000" -> 1.5; malformed -> 0.
double parse_cpu_max(const std::string& text);

}  // namespace simdtensor
