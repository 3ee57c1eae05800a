// Every compiled pooling variant against the reference: max and average, odd channel counts and sizes, strides,
// dilations, asymmetric pads, ceil-mode windows past the padding, count_include_pad, NaN/−Inf, row bands; global
// pooling over odd pixel counts with a channel sub-block (row stride > channels).
#include <cmath>
#include <vector>

#include "kernels/f32-pool/f32-pool.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// Max is exact. Averages sum up to 25 values (or up to 1000 for global pooling) in float.
constexpr float kPoolAbsTol = 2e-6f;
constexpr float kPoolRelTol = 2e-6f;
constexpr float kGlobalRelTol = 2e-5f;

bool close(float got, float want, float rel = kPoolRelTol) { return sttest::close_to(got, want, kPoolAbsTol, rel); }

const size_t kChannels[] = {1, 3, 7, 15, 17, 33, 63, 65};
struct Geo {
  size_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool ceil;
};
const Geo kGeos[] = {
    {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true}, {2, 2, 2, 2, 1, 1, 0, 0, 0, 0, true},
    {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false}, {3, 2, 1, 2, 2, 1, 0, 1, 2, 0, false}, {5, 5, 3, 2, 1, 1, 2, 1, 0, 2, true},
    {1, 1, 2, 2, 1, 1, 0, 0, 0, 0, false}, {3, 3, 3, 3, 2, 2, 2, 2, 2, 2, true}, {7, 7, 1, 1, 1, 1, 3, 3, 3, 3, false},
};
const size_t kSizes[][2] = {{1, 1}, {3, 5}, {7, 7}, {9, 13}};

// Output size, PyTorch/ONNX rules: floor or ceil, and a ceil-mode window that would start in the end padding is
// dropped. Returns false if no window fits.
bool out_size(size_t in, size_t k, size_t s, size_t d, size_t p0, size_t p1, bool ceil, size_t* out) {
  const size_t ext = (k - 1) * d + 1;
  if (in + p0 + p1 < ext) return false;
  size_t o = (in + p0 + p1 - ext + (ceil ? s - 1 : 0)) / s + 1;
  if (ceil && (o - 1) * s >= in + p0) o--;
  *out = o;
  return true;
}
}  // namespace

TEST(f32_pool_variants_match_reference) {
  const F32PoolVariant& R = f32_pool_reference;
  size_t cases = 0;
  sttest::for_each_runnable(f32_pool_table, 3, [&](const F32PoolVariant& v, sttest::Rng& rng) {
    size_t k = 0;
    for (size_t c : kChannels)
      for (const Geo& g : kGeos)
        for (const auto& hw : kSizes)
          for (int kind : {kPoolMax, kPoolAvg})
            for (bool cip : {false, true}) {
              if (kind == kPoolMax && cip) continue;
              PoolShape s{c, hw[0], hw[1], 0, 0, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.pb, g.pr, cip};
              if (!out_size(s.ih, s.kh, s.sh, s.dh, s.pt, s.pb, g.ceil, &s.oh) ||
                  !out_size(s.iw, s.kw, s.sw, s.dw, s.pl, s.pr, g.ceil, &s.ow))
                continue;
              // Every window must hold an input tap (pads smaller than the window, as the API requires).
              if (g.pt >= (g.kh - 1) * g.dh + 1 || g.pl >= (g.kw - 1) * g.dw + 1) continue;
              k++;
              const size_t nx = s.ih * s.iw * c, ny = s.oh * s.ow * c;
              sttest::Flush<float> x(nx), y(ny), yr(ny);
              for (size_t i = 0; i < nx; i++) x[i] = rng.uniform() * 4;
              if (k % 4 == 0 && nx > 6) {
                x[nx / 3] = NAN;
                x[nx / 2] = -INFINITY;
              }
              const size_t mid = s.oh / 2;
              v.nhwc(kind, s, x.data(), y.data(), 0, mid);
              v.nhwc(kind, s, x.data(), y.data(), mid, s.oh);
              R.nhwc(kind, s, x.data(), yr.data(), 0, s.oh);
              for (size_t i = 0; i < ny; i++)
                CHECK(close(y[i], yr[i]), "%s nhwc kind=%d cip=%d c=%zu %zux%zu k%zux%zu s%zu,%zu d%zu,%zu i=%zu got %g want %g",
                      v.name, kind, cip, c, s.ih, s.iw, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, i, y[i], yr[i]);
              if (c <= 3) {
                PoolShape s1 = s;
                s1.c = 1;
                const size_t plane = s.ih * s.iw, oplane = s.oh * s.ow;
                sttest::Flush<float> xp(plane), yp(oplane), ypr(oplane);
                for (size_t i = 0; i < plane; i++) xp[i] = x[i * c];
                std::vector<float> scratch(f32_pool_nchw_scratch(s1, s.oh));
                v.nchw(kind, s1, xp.data(), yp.data(), 0, mid, scratch.data());
                v.nchw(kind, s1, xp.data(), yp.data(), mid, s.oh, scratch.data());
                R.nchw(kind, s1, xp.data(), ypr.data(), 0, s.oh, nullptr);
                for (size_t i = 0; i < oplane; i++)
                  CHECK(close(yp[i], ypr[i]), "%s nchw kind=%d cip=%d %zux%zu k%zux%zu s%zu,%zu d%zu,%zu i=%zu got %g want %g",
                        v.name, kind, cip, s.ih, s.iw, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, i, yp[i], ypr[i]);
              }
              cases++;
            }
    // Global pooling: NHWC over a channel sub-block of a wider row (ldx = c + 5), NCHW planes.
    for (size_t c : kChannels)
      for (size_t hw : {1, 2, 7, 16, 17, 49, 1000})
        for (int kind : {kPoolMax, kPoolAvg}) {
          const size_t ldx = c + 5;
          sttest::Flush<float> x(hw * ldx), y(c), yr(c);
          for (size_t i = 0; i < hw * ldx; i++) x[i] = rng.uniform() * 4;
          if (hw > 3 && c > 2) x[2 * ldx + 1] = NAN;
          v.global_nhwc(kind, hw, c, ldx, x.data(), y.data());
          R.global_nhwc(kind, hw, c, ldx, x.data(), yr.data());
          for (size_t i = 0; i < c; i++)
            CHECK(close(y[i], yr[i], kGlobalRelTol), "%s global nhwc kind=%d c=%zu hw=%zu i=%zu got %g want %g", v.name, kind, c,
                  hw, i, y[i], yr[i]);
          sttest::Flush<float> xn(hw * c), yn(c), ynr(c);
          for (size_t i = 0; i < hw * c; i++) xn[i] = rng.uniform() * 4 + (i % 3 == 0 ? -3.0f : 0.0f);
          if (hw > 3) xn[hw - 1] = NAN;  // the last element of plane 0, in the kernels' tail
          v.global_nchw(kind, hw, c, xn.data(), yn.data());
          R.global_nchw(kind, hw, c, xn.data(), ynr.data());
          for (size_t i = 0; i < c; i++)
            CHECK(close(yn[i], ynr[i], kGlobalRelTol), "%s global nchw kind=%d c=%zu hw=%zu i=%zu got %g want %g", v.name, kind,
                  c, hw, i, yn[i], ynr[i]);
        }
  });
  CHECK(cases > 100, "only %zu cases ran", cases);
}
