/* Example and test of the C ABI (include/simdtensor.h): f32 GEMM (one-off and packed), int8 quantization and the
 * dynamic-quantized int8 linear, bf16 GEMM, the thread count, and an error report; each result against a plain C
 * reference. Built and run by scripts/native-tests.mjs (x64 under ASan/UBSan, ARM64 under qemu). Exit status 0
 * when every check passes. Build by hand: cc -std=c99 gemm.c -I include -L build -lsimdtensor -lm */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simdtensor.h"

static int passed = 0, failed = 0;

static void check(const char* what, int ok, double detail) {
  if (ok)
    passed++;
  else
    failed++;
  printf("  %s %s (%.3g)\n", ok ? "ok  " : "FAIL", what, detail);
}

/* Deterministic values in [-1, 1). */
static void fill(float* x, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    x[i] = (float)(seed >> 8) / (float)(1u << 23) - 1.0f;
  }
}

/* c = a · wᵀ + bias (w: n×k, a Linear weight), in double. */
static void reference(size_t m, size_t n, size_t k, const float* a, const float* w, const float* bias, double* c) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = bias ? bias[j] : 0.0;
      for (size_t p = 0; p < k; p++) s += (double)a[i * k + p] * w[j * k + p];
      c[i * n + j] = s;
    }
}

/* Largest |got − want|; NaN if any output is NaN (fmax would skip it). */
static double max_err(const float* got, const double* want, size_t n) {
  double e = 0;
  for (size_t i = 0; i < n; i++) {
    const double d = fabs(got[i] - want[i]);
    if (!(d <= e)) e = d;
  }
  return e;
}

/* bf16 bits of a float that bf16 holds exactly (the examples use such values). */
static uint16_t to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)(u >> 16);
}

int main(void) {
  enum { M = 7, K = 33, N = 65 }; /* off the tile sizes on purpose */
  float a[M * K], w[N * K], bias[N], c[M * N], c2[M * N];
  double want[M * N];
  fill(a, M * K, 1);
  fill(w, N * K, 2);
  fill(bias, N, 3);
  reference(M, N, K, a, w, bias, want);

  printf("simdtensor C ABI %s (ABI %u), best ISA %s, %d thread(s)\n", st_version(), st_abi_version(), st_best_isa(),
         st_get_num_threads());
  check("header and library agree on the ABI version", st_abi_version() == SIMDTENSOR_ABI_VERSION, st_abi_version());
  const int threads = st_set_num_threads(1);
  check("st_set_num_threads(1)", threads == 1 && st_get_num_threads() == 1, threads);

  /* f32, weights as a Linear layer [N, K] (trans_b). */
  st_status s = st_sgemm(M, N, K, a, K, w, K, 1, bias, ST_ACT_NONE, c, N);
  check("st_sgemm", s == ST_OK && max_err(c, want, M * N) < 1e-4, max_err(c, want, M * N));

  st_packed_f32* pw = NULL;
  s = st_pack_f32(w, K, 1, K, N, &pw);
  if (s == ST_OK) s = st_sgemm_packed(M, a, K, pw, bias, ST_ACT_NONE, c2, N);
  check("st_pack_f32 + st_sgemm_packed equal st_sgemm bit for bit", s == ST_OK && memcmp(c, c2, sizeof c) == 0, (double)s);
  st_packed_f32_free(pw);

  /* relu fused. */
  s = st_sgemm(M, N, K, a, K, w, K, 1, bias, ST_ACT_RELU, c2, N);
  int relu_ok = s == ST_OK;
  for (size_t i = 0; i < M * N; i++) relu_ok &= c2[i] == (c[i] > 0 ? c[i] : 0);
  check("st_sgemm with relu", relu_ok, (double)s);

  /* int8: quantize the weights per output row, run the dynamic-quantized linear. */
  int8_t q[N * K];
  float scales[N];
  s = st_quantize_s8_rows(N, K, w, K, q, scales);
  int q_ok = s == ST_OK;
  for (size_t j = 0; j < N && q_ok; j++)
    for (size_t p = 0; p < K; p++) q_ok &= fabsf(q[j * K + p] * scales[j] - w[j * K + p]) <= 0.5f * scales[j] * 1.0001f;
  check("st_quantize_s8_rows: every weight within half a step", q_ok, (double)s);
  st_packed_s8* qw = NULL;
  s = st_pack_s8(q, K, N, K, scales, &qw);
  if (s == ST_OK) s = st_s8_linear(M, a, K, qw, bias, ST_ACT_NONE, c2, N);
  double rms = 0;
  for (size_t i = 0; i < M * N; i++) rms += want[i] * want[i];
  rms = sqrt(rms / (M * N));
  check("st_pack_s8 + st_s8_linear within 8 % of the output RMS", s == ST_OK && max_err(c2, want, M * N) < 0.08 * rms,
        max_err(c2, want, M * N) / rms);
  st_packed_s8_free(qw);

  /* bf16: small multiples of 1/8 are exact in bf16 and their products sum exactly in f32. */
  uint16_t ha[M * K], hw[N * K];
  float fa[M * K], fw[N * K];
  for (size_t i = 0; i < M * K; i++) fa[i] = (float)((int)(i % 17) - 8) / 8.0f, ha[i] = to_bf16(fa[i]);
  for (size_t i = 0; i < N * K; i++) fw[i] = (float)((int)(i % 13) - 6) / 8.0f, hw[i] = to_bf16(fw[i]);
  reference(M, N, K, fa, fw, NULL, want);
  s = st_hgemm(M, N, K, ST_BFLOAT16, ha, K, hw, K, 1, NULL, ST_ACT_NONE, c, N);
  check("st_hgemm (bf16) exact on exactly representable inputs", s == ST_OK && max_err(c, want, M * N) == 0, max_err(c, want, M * N));

  /* Errors are statuses with a message naming the argument, never a crash. */
  s = st_sgemm(M, N, K, NULL, K, w, K, 1, NULL, ST_ACT_NONE, c, N);
  check("a NULL operand is ST_INVALID_ARGUMENT naming it", s == ST_INVALID_ARGUMENT && strcmp(st_last_error(), "st_sgemm: a is NULL") == 0, (double)s);
  s = st_sgemm(M, N, K, a, K - 1, w, K, 1, NULL, ST_ACT_NONE, c, N);
  check("a short row stride is ST_INVALID_ARGUMENT", s == ST_INVALID_ARGUMENT && strstr(st_last_error(), "row stride") != NULL, (double)s);
  w[5] = NAN;
  s = st_quantize_s8_rows(N, K, w, K, q, scales);
  check("NaN in weights to quantize is ST_OUT_OF_RANGE naming the row", s == ST_OUT_OF_RANGE && strstr(st_last_error(), "row 0") != NULL, (double)s);

  /* f32 conv2d, NCHW, 3x3, stride 2, pads 1, groups 2, bias + relu, against plain loops in double. */
  {
    enum { CN = 2, CC = 6, CH = 9, CW = 7, CM = 4, CG = 2, KH = 3, KW = 3 };
    const size_t OH = (CH + 2 - KH) / 2 + 1, OW = (CW + 2 - KW) / 2 + 1;
    float cx[CN * CC * CH * CW], cw[CM * (CC / CG) * KH * KW], cb[CM], cy[CN * CM * 5 * 4];
    double cwant[CN * CM * 5 * 4];
    fill(cx, sizeof cx / sizeof cx[0], 11);
    fill(cw, sizeof cw / sizeof cw[0], 12);
    fill(cb, CM, 13);
    for (size_t b = 0; b < CN; b++)
      for (size_t mo = 0; mo < CM; mo++)
        for (size_t oy = 0; oy < OH; oy++)
          for (size_t ox = 0; ox < OW; ox++) {
            const size_t g = mo / (CM / CG);
            double acc = cb[mo];
            for (size_t ci = 0; ci < CC / CG; ci++)
              for (size_t ky = 0; ky < KH; ky++)
                for (size_t kx = 0; kx < KW; kx++) {
                  const long iy = (long)(oy * 2 + ky) - 1, ix = (long)(ox * 2 + kx) - 1;
                  if (iy < 0 || ix < 0 || iy >= CH || ix >= CW) continue;
                  acc += (double)cx[((b * CC + g * (CC / CG) + ci) * CH + iy) * CW + ix] *
                         cw[((mo * (CC / CG) + ci) * KH + ky) * KW + kx];
                }
            cwant[((b * CM + mo) * OH + oy) * OW + ox] = acc > 0 ? acc : 0;
          }
    st_packed_conv* pc = NULL;
    size_t oh = 0, ow = 0;
    s = st_pack_conv_f32(cw, ST_CONV_OIHW, CC, CM, KH, KW, CG, &pc);
    if (s == ST_OK)
      s = st_conv2d_f32(pc, 1, CN, CH, CW, cx, 2, 2, 1, 1, 1, 1, 1, 1, cb, ST_ACT_RELU, cy, sizeof cy / sizeof cy[0], &oh, &ow);
    check("st_pack_conv_f32 + st_conv2d_f32 (NCHW, 3x3 s2 p1, groups 2, relu) match plain loops",
          s == ST_OK && oh == OH && ow == OW && max_err(cy, cwant, CN * CM * OH * OW) < 1e-5, max_err(cy, cwant, CN * CM * OH * OW));
    s = st_conv2d_f32(pc, 1, CN, CH, CW, cx, 2, 2, 1, 1, 1, 1, 1, 1, cb, ST_ACT_RELU, cy, 3, NULL, NULL);
    check("a short conv output is ST_INVALID_ARGUMENT naming y_len", s == ST_INVALID_ARGUMENT && strstr(st_last_error(), "y_len") != NULL, (double)s);
    st_packed_conv_free(pc);
  }

  printf("c-api example: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
