// Every compiled elementwise variant this CPU can run against the scalar reference, lengths around the vector width.
#include <cmath>
#include <vector>

#include "kernels/f32-eltwise/f32-eltwise.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// exp/erf polynomials are accurate to a few ulp (2e-7 relative) and 1.5e-7 absolute for erf.
constexpr float kEltwiseAbsTol = 2e-6f;
constexpr float kEltwiseRelTol = 4e-6f;

bool close(float got, float want) { return sttest::close_to(got, want, kEltwiseAbsTol, kEltwiseRelTol); }

const size_t kLens[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 1023};
}  // namespace

TEST(f32_eltwise_variants_match_reference) {
  const F32EltwiseVariant& R = f32_eltwise_reference;
  sttest::for_each_runnable(f32_eltwise_table, 1, [&](const F32EltwiseVariant& v, sttest::Rng& rng) {
    for (size_t n : kLens) {
      sttest::Flush<float> a(n), b(n), out(n), ref(n);
      for (size_t i = 0; i < n; i++) {
        a[i] = rng.uniform() * 8;
        b[i] = rng.uniform() * 8;
      }
      if (n > 5) {
        a[1] = NAN;
        a[2] = INFINITY;
        a[3] = -INFINITY;
        a[4] = -0.0f;
        a[5] = 1e-40f;  // subnormal
      }
      if (n > 7) b[7] = NAN;  // Max / Min propagate a NaN of either side
      for (int op = 0; op <= kBinLast; op++) {
        v.binary(op, n, a.data(), b.data(), out.data());
        R.binary(op, n, a.data(), b.data(), ref.data());
        for (size_t i = 0; i < n; i++) CHECK(close(out[i], ref[i]), "%s binary op=%d n=%zu i=%zu", v.name, op, n, i);
      }
      // Unary ops over [-12, 12] with small magnitudes (tanh's series branch) and the specials (no subnormal: a
      // denormals-are-zero mode would change sqrt / rsqrt of it).
      sttest::Flush<float> u(n);
      for (size_t i = 0; i < n; i++) u[i] = (i % 3 == 0 ? 0.05f : 12.0f) * rng.uniform();
      if (n > 5) {
        u[1] = NAN;
        u[2] = INFINITY;
        u[3] = -INFINITY;
        u[4] = -0.0f;
        u[5] = 0.0625f;
      }
      for (int op = 0; op <= kUnLast; op++) {
        const float p0 = op == kUnClip ? -1.5f : 0.3f, p1 = 6.0f;
        v.unary(op, n, u.data(), p0, p1, out.data());
        R.unary(op, n, u.data(), p0, p1, ref.data());
        for (size_t i = 0; i < n; i++)
          CHECK(close(out[i], ref[i]), "%s unary op=%d n=%zu i=%zu x=%g got %g want %g", v.name, op, n, i, u[i], out[i], ref[i]);
        for (size_t i = 0; i < n; i++) out[i] = u[i];  // in place (x == out) gives the same
        v.unary(op, n, out.data(), p0, p1, out.data());
        for (size_t i = 0; i < n; i++) CHECK(close(out[i], ref[i]), "%s unary in place op=%d n=%zu i=%zu", v.name, op, n, i);
      }
      for (int act = 1; act < 3; act++) {
        v.activation(act, n, a.data(), out.data());
        R.activation(act, n, a.data(), ref.data());
        for (size_t i = 0; i < n; i++)
          CHECK(close(out[i], ref[i]) || (std::isnan(ref[i]) == std::isnan(out[i]) && std::isinf(a[i])),
                "%s act=%d n=%zu i=%zu x=%g got %g want %g", v.name, act, n, i, a[i], out[i], ref[i]);
      }
    }
    // Row ops: rows × cols with a broadcast row.
    for (size_t cols : kLens) {
      const size_t rows = 3;
      sttest::Flush<float> x(rows * cols), row(cols), out(rows * cols), ref(rows * cols), g(cols), bt(cols);
      for (size_t i = 0; i < rows * cols; i++) x[i] = rng.uniform() * 10;
      for (size_t i = 0; i < cols; i++) {
        row[i] = rng.uniform();
        g[i] = rng.uniform() + 1;
        bt[i] = rng.uniform();
      }
      for (int op = 0; op <= kBinLast; op++) {
        v.binary_row(op, rows, cols, x.data(), row.data(), out.data());
        R.binary_row(op, rows, cols, x.data(), row.data(), ref.data());
        for (size_t i = 0; i < rows * cols; i++) CHECK(close(out[i], ref[i]), "%s binary_row", v.name);
      }
      for (int log = 0; log < 2; log++) {
        v.softmax(log, rows, cols, x.data(), out.data());
        R.softmax(log, rows, cols, x.data(), ref.data());
        for (size_t i = 0; i < rows * cols; i++)
          CHECK(close(out[i], ref[i]), "%s softmax log=%d cols=%zu i=%zu got %g want %g", v.name, log, cols, i, out[i], ref[i]);
      }
      v.layernorm(rows, cols, x.data(), g.data(), bt.data(), 1e-5f, out.data());
      R.layernorm(rows, cols, x.data(), g.data(), bt.data(), 1e-5f, ref.data());
      for (size_t i = 0; i < rows * cols; i++)
        CHECK(std::fabs(out[i] - ref[i]) <= 2e-5f * (1 + std::fabs(ref[i])), "%s layernorm cols=%zu i=%zu got %g want %g",
              v.name, cols, i, out[i], ref[i]);
      // NaN anywhere in a softmax row makes the whole row NaN.
      x[1] = NAN;
      v.softmax(false, 1, cols, x.data(), out.data());
      for (size_t i = 0; i < cols && cols > 1; i++) CHECK(std::isnan(out[i]), "%s softmax NaN row", v.name);
    }
  });
}
