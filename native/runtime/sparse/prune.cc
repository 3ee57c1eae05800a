// Magnitude pruning: scores are |w| (block: mean |w| over the block's entries inside the matrix); NaN scores as
// +Inf so it is never silently pruned. Selection by nth_element, then ties at the threshold pruned by index order.
#include "runtime/sparse/prune.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace simdtensor {

namespace {

inline float score(float v) { return std::isnan(v) ? INFINITY : std::fabs(v); }

// Marks the `count` lowest of scores[0..len) (ties: lower index first) as pruned (keep[i] = 0).
void prune_lowest(const float* scores, size_t len, size_t count, uint8_t* keep, std::vector<float>& tmp) {
  if (len == 0) return;  // keep/scores may be null when empty
  std::memset(keep, 1, len);
  if (count == 0) return;
  if (count >= len) {
    std::memset(keep, 0, len);
    return;
  }
  tmp.assign(scores, scores + len);
  std::nth_element(tmp.begin(), tmp.begin() + std::ptrdiff_t(count - 1), tmp.end());
  const float t = tmp[count - 1];
  size_t below = 0;
  for (size_t i = 0; i < len; i++) below += scores[i] < t;
  size_t ties = count - below;
  for (size_t i = 0; i < len; i++) {
    if (scores[i] < t) keep[i] = 0;
    else if (scores[i] == t && ties > 0) {
      keep[i] = 0;
      ties--;
    }
  }
}

size_t rounded(double frac, size_t total) {
  const double c = std::floor(frac * double(total) + 0.5);
  return c <= 0 ? 0 : (c >= double(total) ? total : size_t(c));
}

}  // namespace

std::string f32_prune_check(const F32PruneArgs& a) {
  if (!(a.sparsity >= 0.0 && a.sparsity <= 1.0) && a.pattern != PrunePattern::kNm)
    return "sparsity must be in [0, 1], got " + std::to_string(a.sparsity);
  if (a.pattern == PrunePattern::kNm) {
    if (a.nm_m < 1 || a.nm_m > 16 || a.nm_n < 1 || a.nm_n > a.nm_m)
      return "n:m (" + std::to_string(a.nm_n) + ":" + std::to_string(a.nm_m) + ") must satisfy 1 <= n <= m <= 16";
    if (a.k % a.nm_m != 0)
      return "w.shape[1] (" + std::to_string(a.k) + ") must be a multiple of m (" + std::to_string(a.nm_m) + ")";
  }
  if (a.pattern == PrunePattern::kBlock && (a.bh < 1 || a.bw < 1 || a.bh > 64 || a.bw > 64))
    return "block [" + std::to_string(a.bh) + ", " + std::to_string(a.bw) + "] must be within [1..64, 1..64]";
  return "";
}

size_t f32_prune(const F32PruneArgs& a) {
  const size_t n = a.n, k = a.k, total = n * k;
  std::vector<uint8_t> keep(total, 1);
  std::vector<float> tmp;
  switch (a.pattern) {
    case PrunePattern::kUnstructured: {
      std::vector<float> sc(total);
      for (size_t i = 0; i < total; i++) sc[i] = score(a.w[i]);
      if (a.per_row) {
        const size_t c = rounded(a.sparsity, k);
        for (size_t r = 0; r < n; r++) prune_lowest(sc.data() + r * k, k, c, keep.data() + r * k, tmp);
      } else {
        prune_lowest(sc.data(), total, rounded(a.sparsity, total), keep.data(), tmp);
      }
      break;
    }
    case PrunePattern::kNm: {
      const size_t m = a.nm_m, drop = a.nm_m - a.nm_n;
      float sc[16];
      uint8_t kp[16];
      for (size_t r = 0; r < n; r++)
        for (size_t g = 0; g < k / m; g++) {
          const size_t base = r * k + g * m;
          for (size_t j = 0; j < m; j++) sc[j] = score(a.w[base + j]);
          // Keep the n largest (ties: the lower offset is pruned first, as everywhere).
          for (size_t j = 0; j < m; j++) kp[j] = 1;
          for (size_t d = 0; d < drop; d++) {
            size_t lo = m;
            for (size_t j = 0; j < m; j++)
              if (kp[j] && (lo == m || sc[j] < sc[lo])) lo = j;
            kp[lo] = 0;
          }
          for (size_t j = 0; j < m; j++) keep[base + j] = kp[j];
        }
      break;
    }
    case PrunePattern::kBlock: {
      const size_t bh = a.bh, bw = a.bw, brows = (n + bh - 1) / bh, bcols = (k + bw - 1) / bw;
      std::vector<float> sc(brows * bcols);
      for (size_t br = 0; br < brows; br++)
        for (size_t bc = 0; bc < bcols; bc++) {
          double s = 0;
          size_t cnt = 0;
          for (size_t i = br * bh; i < std::min(n, br * bh + bh); i++)
            for (size_t j = bc * bw; j < std::min(k, bc * bw + bw); j++) {
              s += double(score(a.w[i * k + j]));
              cnt++;
            }
          sc[br * bcols + bc] = float(s / double(cnt));
        }
      std::vector<uint8_t> bkeep(brows * bcols, 1);
      if (a.per_row) {
        const size_t c = rounded(a.sparsity, bcols);
        for (size_t br = 0; br < brows; br++)
          prune_lowest(sc.data() + br * bcols, bcols, c, bkeep.data() + br * bcols, tmp);
      } else {
        prune_lowest(sc.data(), sc.size(), rounded(a.sparsity, sc.size()), bkeep.data(), tmp);
      }
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) keep[i * k + j] = bkeep[(i / bh) * bcols + j / bw];
      break;
    }
  }
  size_t zeros = 0;
  for (size_t i = 0; i < total; i++) {
    const float v = keep[i] ? a.w[i] : 0.0f;
    a.out[i] = v;
    if (a.mask) a.mask[i] = keep[i];
    zeros += v == 0.0f;
  }
  return zeros;
}

}  // namespace simdtensor
