// Every compiled training variant this CPU can run against the scalar reference: lengths around the vector width,
// rows × cols shapes for the row kernels, bit-exact integer results (dropout masks, argmax, transpose).
#include <cmath>
#include <vector>

#include "kernels/f32-train/f32-train.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// exp/erf polynomials (a few ulp, erf 1.5e-7 absolute) and float vs double sums over at most a few hundred terms.
constexpr float kTrainAbsTol = 5e-6f;
constexpr float kTrainRelTol = 2e-5f;
// The summed loss over a whole batch: relative to its magnitude.
constexpr double kLossRelTol = 1e-5;

bool close(float got, float want) { return sttest::close_to(got, want, kTrainAbsTol, kTrainRelTol); }

const size_t kLens[] = {1, 3, 7, 8, 9, 15, 16, 17, 33, 64, 65, 255};
const size_t kCols[] = {1, 2, 5, 8, 10, 16, 17, 31, 64, 100};

// The scalar reference every variant is checked against.
const F32TrainVariant& R = f32_train_reference;
}  // namespace

TEST(f32_train_activation_backward_matches_reference) {
  sttest::for_each_runnable(f32_train_table, 11, [](const F32TrainVariant& v, sttest::Rng& rng) {
    for (size_t n : kLens) {
      sttest::Flush<float> x(n), dy(n), out(n), ref(n);
      for (size_t i = 0; i < n; i++) {
        x[i] = rng.uniform() * 6;
        dy[i] = rng.uniform();
      }
      if (n > 3) x[1] = 0.0f, x[2] = -0.0f;
      v.relu_backward(n, x.data(), dy.data(), out.data());
      R.relu_backward(n, x.data(), dy.data(), ref.data());
      for (size_t i = 0; i < n; i++) CHECK(out[i] == ref[i], "%s relu_backward n=%zu i=%zu", v.name, n, i);
      v.gelu_backward(n, x.data(), dy.data(), out.data());
      R.gelu_backward(n, x.data(), dy.data(), ref.data());
      for (size_t i = 0; i < n; i++)
        CHECK(close(out[i], ref[i]), "%s gelu_backward n=%zu i=%zu x=%g got %g want %g", v.name, n, i, x[i], out[i],
              ref[i]);
    }
  });
}

TEST(f32_train_softmax_xent_matches_reference) {
  sttest::for_each_runnable(f32_train_table, 21, [](const F32TrainVariant& v, sttest::Rng& rng) {
    const size_t rows = 5;
    for (size_t cols : kCols) {
      const size_t n = rows * cols;
      sttest::Flush<float> z(n), t(n), g(n), gr(n);
      std::vector<int32_t> labels(rows);
      for (size_t i = 0; i < n; i++) z[i] = rng.uniform() * 10;
      for (size_t r = 0; r < rows; r++) {
        labels[r] = int32_t((rng.next() >> 8) % cols);
        float s = 0;
        for (size_t c = 0; c < cols; c++) s += (t[r * cols + c] = (c == 1 ? 0.0f : std::fabs(rng.uniform())));
        for (size_t c = 0; c < cols; c++) t[r * cols + c] = s > 0 ? t[r * cols + c] / s : 1.0f / float(cols);
      }
      for (float inv_temp : {1.0f, 0.25f}) {
        for (int soft = 0; soft < 2; soft++) {
          for (int acc = 0; acc < 2; acc++) {
            for (size_t i = 0; i < n; i++) g[i] = gr[i] = 0.5f;
            const int32_t* lb = soft ? nullptr : labels.data();
            const float* tg = soft ? t.data() : nullptr;
            double lv = v.softmax_xent(rows, cols, z.data(), inv_temp, lb, tg, 0.3f, g.data(), acc);
            double lr = R.softmax_xent(rows, cols, z.data(), inv_temp, lb, tg, 0.3f, gr.data(), acc);
            CHECK(std::fabs(lv - lr) <= 1e-5 + kLossRelTol * std::fabs(lr), "%s xent loss cols=%zu soft=%d got %g want %g",
                  v.name, cols, soft, lv, lr);
            for (size_t i = 0; i < n; i++)
              CHECK(close(g[i], gr[i]), "%s xent grad cols=%zu soft=%d acc=%d i=%zu got %g want %g", v.name, cols, soft,
                    acc, i, g[i], gr[i]);
          }
        }
      }
      // Loss only (grad null) gives the same loss.
      double a = v.softmax_xent(rows, cols, z.data(), 1.0f, labels.data(), nullptr, 1.0f, nullptr, false);
      double b = R.softmax_xent(rows, cols, z.data(), 1.0f, labels.data(), nullptr, 1.0f, nullptr, false);
      CHECK(std::fabs(a - b) <= 1e-5 + kLossRelTol * std::fabs(b), "%s xent loss-only cols=%zu", v.name, cols);
    }
  });
}

TEST(f32_train_layernorm_backward_matches_reference) {
  sttest::for_each_runnable(f32_train_table, 31, [](const F32TrainVariant& v, sttest::Rng& rng) {
    const size_t rows = 4;
    for (size_t cols : kCols) {
      const size_t n = rows * cols;
      sttest::Flush<float> x(n), dy(n), dx(n), dxr(n), gm(cols), dg(cols), db(cols), dgr(cols), dbr(cols);
      for (size_t i = 0; i < n; i++) x[i] = rng.uniform() * 3 + 1, dy[i] = rng.uniform();
      for (size_t c = 0; c < cols; c++) gm[c] = 1 + rng.uniform() * 0.5f;
      for (int with_gamma = 0; with_gamma < 2; with_gamma++) {
        const float* g = with_gamma ? gm.data() : nullptr;
        v.layernorm_backward(rows, cols, x.data(), g, dy.data(), 1e-5f, dx.data(), dg.data(), db.data());
        R.layernorm_backward(rows, cols, x.data(), g, dy.data(), 1e-5f, dxr.data(), dgr.data(), dbr.data());
        for (size_t i = 0; i < n; i++)
          CHECK(close(dx[i], dxr[i]) || std::fabs(dx[i] - dxr[i]) < 2e-4f, "%s ln dx cols=%zu i=%zu got %g want %g",
                v.name, cols, i, dx[i], dxr[i]);
        for (size_t c = 0; c < cols; c++) {
          CHECK(close(dg[c], dgr[c]), "%s ln dgamma cols=%zu c=%zu", v.name, cols, c);
          CHECK(close(db[c], dbr[c]), "%s ln dbeta cols=%zu c=%zu", v.name, cols, c);
        }
      }
    }
  });
}

TEST(f32_train_optimizers_match_reference) {
  sttest::for_each_runnable(f32_train_table, 41, [](const F32TrainVariant& v, sttest::Rng& rng) {
    for (size_t n : kLens) {
      sttest::Flush<float> w(n), wr(n), g(n), m(n), mr(n), s(n), sr(n), mask(n);
      for (size_t i = 0; i < n; i++) {
        w[i] = wr[i] = rng.uniform();
        g[i] = rng.uniform();
        m[i] = mr[i] = rng.uniform() * 0.1f;
        s[i] = sr[i] = std::fabs(rng.uniform()) * 0.01f;
        mask[i] = (i % 3) ? 1.0f : 0.0f;
      }
      for (int nesterov = 0; nesterov < 2; nesterov++) {
        v.sgd(n, w.data(), g.data(), m.data(), 0.1f, 0.9f, 1e-4f, nesterov, nesterov ? mask.data() : nullptr);
        R.sgd(n, wr.data(), g.data(), mr.data(), 0.1f, 0.9f, 1e-4f, nesterov, nesterov ? mask.data() : nullptr);
        for (size_t i = 0; i < n; i++) {
          CHECK(close(w[i], wr[i]) && close(m[i], mr[i]), "%s sgd n=%zu i=%zu", v.name, n, i);
          if (nesterov && mask[i] == 0) CHECK(w[i] == 0.0f, "%s sgd mask n=%zu i=%zu", v.name, n, i);
        }
      }
      v.sgd(n, w.data(), g.data(), nullptr, 0.1f, 0.0f, 0.0f, false, nullptr);
      R.sgd(n, wr.data(), g.data(), nullptr, 0.1f, 0.0f, 0.0f, false, nullptr);
      for (size_t i = 0; i < n; i++) CHECK(close(w[i], wr[i]), "%s plain sgd n=%zu i=%zu", v.name, n, i);
      for (int step = 1; step <= 3; step++) {
        const float bc1 = 1 - std::pow(0.9f, float(step)), bc2 = 1 - std::pow(0.999f, float(step));
        const float* mk = step == 3 ? mask.data() : nullptr;
        v.adamw(n, w.data(), g.data(), m.data(), s.data(), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, bc1, bc2, mk);
        R.adamw(n, wr.data(), g.data(), mr.data(), sr.data(), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, bc1, bc2, mk);
        for (size_t i = 0; i < n; i++)
          CHECK(close(w[i], wr[i]) && close(m[i], mr[i]) && close(s[i], sr[i]), "%s adamw n=%zu step=%d i=%zu got %g want %g",
                v.name, n, step, i, w[i], wr[i]);
      }
    }
  });
}

TEST(f32_train_integer_paths_are_exact) {
  sttest::for_each_runnable(f32_train_table, 51, [](const F32TrainVariant& v, sttest::Rng& rng) {
    for (size_t n : kLens) {
      sttest::Flush<float> x(n), mk(n), mkr(n), o(n), orf(n);
      for (size_t i = 0; i < n; i++) x[i] = rng.uniform();
      for (float p : {0.0f, 0.1f, 0.5f, 0.9f}) {
        v.dropout(n, x.data(), p, 0x123456789abcull + n, mk.data(), o.data());
        R.dropout(n, x.data(), p, 0x123456789abcull + n, mkr.data(), orf.data());
        for (size_t i = 0; i < n; i++)
          CHECK(mk[i] == mkr[i] && o[i] == orf[i], "%s dropout p=%g n=%zu i=%zu", v.name, p, n, i);
      }
    }
    // The kept fraction is close to 1 − p over a long run.
    const size_t big = 100000;
    std::vector<float> x(big, 1.0f), mk(big), o(big);
    v.dropout(big, x.data(), 0.3f, 7, mk.data(), o.data());
    size_t kept = 0;
    for (float m : mk) kept += m != 0;
    CHECK(std::fabs(double(kept) / big - 0.7) < 0.01, "%s dropout kept %zu of %zu", v.name, kept, big);
    for (size_t rows : {1, 5, 16, 17, 33})
      for (size_t cols : kCols) {
        sttest::Flush<float> a(rows * cols), t(rows * cols), tr(rows * cols);
        for (size_t i = 0; i < rows * cols; i++) a[i] = rng.uniform();
        v.transpose(rows, cols, a.data(), t.data());
        R.transpose(rows, cols, a.data(), tr.data());
        for (size_t i = 0; i < rows * cols; i++) CHECK(t[i] == tr[i], "%s transpose %zux%zu i=%zu", v.name, rows, cols, i);
        if (cols > 3 && rows > 2) a[2 * cols + 3] = NAN;
        std::vector<int32_t> am(rows), amr(rows);
        v.argmax(rows, cols, a.data(), am.data());
        R.argmax(rows, cols, a.data(), amr.data());
        for (size_t r = 0; r < rows; r++) CHECK(am[r] == amr[r], "%s argmax %zux%zu r=%zu", v.name, rows, cols, r);
      }
  });
}
