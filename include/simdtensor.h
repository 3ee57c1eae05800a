/* simdtensor C ABI: the f32, int8 and f16/bf16 GEMM kernels, weight packing, quantization and the thread count,
 * for C and any language with a C FFI (Python ctypes, Rust, Go...). Plain C99; link libsimdtensor.so or .a.
 *
 * Conventions: matrices are row-major with explicit row strides (in elements). Every call that can fail returns an
 * st_status; st_last_error() then says why, naming the argument (a thread-local string, valid until the next
 * call on that thread). Calls never abort the process on bad input. Pointers not marked "or NULL" must be valid.
 * The ISA is chosen at run time from the CPU (SIMDTENSOR_MAX_ISA caps it, as for the Node package).
 * Thread safety: every function may be called from any thread; packed weights are read-only once made and may be
 * shared between threads.
 *
 * Versioning: SIMDTENSOR_ABI_VERSION changes only when an existing declaration changes or goes; additions keep it.
 * Check st_abi_version() == SIMDTENSOR_ABI_VERSION at start-up to catch a header/library mismatch. See
 * docs/c-api.md. */
#ifndef SIMDTENSOR_H
#define SIMDTENSOR_H

#include <stddef.h>
#include <stdint.h>

#define SIMDTENSOR_ABI_VERSION 1
#define SIMDTENSOR_VERSION_MAJOR 0
#define SIMDTENSOR_VERSION_MINOR 1
#define SIMDTENSOR_VERSION_PATCH 0

#if defined(_WIN32)
#define ST_API __declspec(dllimport)
#elif defined(__GNUC__)
#define ST_API __attribute__((visibility("default")))
#else
#define ST_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum st_status {
  ST_OK = 0,
  ST_INVALID_ARGUMENT = 1, /* a NULL pointer, a zero size where one is needed, a stride below the row length */
  ST_OUT_OF_RANGE = 2,     /* a value outside what the operation accepts (e.g. NaN in weights to quantize) */
  ST_OUT_OF_MEMORY = 3,
  ST_INTERNAL = 4
} st_status;

typedef enum st_activation { ST_ACT_NONE = 0, ST_ACT_RELU = 1, ST_ACT_GELU = 2 } st_activation;

/* Half-precision element types: raw IEEE binary16 or bfloat16 bits in uint16_t. */
typedef enum st_half_type { ST_FLOAT16 = 1, ST_BFLOAT16 = 2 } st_half_type;

/* ---- library ---- */
ST_API unsigned st_abi_version(void);
ST_API const char* st_version(void);     /* "0.1.0" */
ST_API const char* st_best_isa(void);    /* e.g. "avx512bf16", "neondot", "scalar" (after any cap) */
ST_API const char* st_last_error(void);  /* "" when the last failing call on this thread left no message */
/* Threads an operation may use, including the calling one (default: the CPUs this process may run on). Returns
 * the value now in force (n < 1 leaves it unchanged). */
ST_API int st_set_num_threads(int n);
ST_API int st_get_num_threads(void);

/* ---- f32 GEMM: c = act(a · op(b) + bias) ----
 * a: m×k (lda ≥ k); b: k×n (ldb ≥ n), or n×k when trans_b (ldb ≥ k: a PyTorch Linear weight [out, in]);
 * bias: n floats or NULL; c: m×n (ldc ≥ n). */
ST_API st_status st_sgemm(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                          int trans_b, const float* bias, st_activation act, float* c, size_t ldc);

/* Weights packed once for the GEMM microkernel and reused on every call (the fast path for a fixed weight). */
typedef struct st_packed_f32 st_packed_f32;
ST_API st_status st_pack_f32(const float* b, size_t ldb, int trans_b, size_t k, size_t n, st_packed_f32** out);
ST_API st_status st_sgemm_packed(size_t m, const float* a, size_t lda, const st_packed_f32* w, const float* bias,
                                 st_activation act, float* c, size_t ldc);
ST_API void st_packed_f32_free(st_packed_f32* w); /* NULL is a no-op */

/* ---- f32 2-D convolution: y = act(conv(x, w) + bias) ----
 * Weights packed once: ST_CONV_OIHW [m, c/groups, kh, kw] (ONNX, PyTorch) or ST_CONV_HWIO [kh, kw, c/groups, m]
 * (TF); groups must divide c and m. x is NCHW [n, c, h, w] (nchw != 0) or NHWC [n, h, w, c]; y has the same layout
 * with m channels and oh = (h + pad_t + pad_b - ((kh-1)·dil_h + 1)) / stride_h + 1 rows (ow likewise); y_len must
 * be at least n·m·oh·ow floats; oh_out/ow_out (may be NULL) receive oh and ow. bias: m floats or NULL. */
typedef struct st_packed_conv st_packed_conv;
typedef enum st_conv_weight_layout { ST_CONV_OIHW = 0, ST_CONV_HWIO = 1 } st_conv_weight_layout;
ST_API st_status st_pack_conv_f32(const float* w, st_conv_weight_layout layout, size_t c, size_t m, size_t kh,
                                  size_t kw, size_t groups, st_packed_conv** out);
ST_API st_status st_conv2d_f32(const st_packed_conv* w, int nchw, size_t n, size_t h, size_t wd, const float* x,
                               size_t stride_h, size_t stride_w, size_t dil_h, size_t dil_w, size_t pad_t,
                               size_t pad_l, size_t pad_b, size_t pad_r, const float* bias, st_activation act,
                               float* y, size_t y_len, size_t* oh_out, size_t* ow_out);
ST_API void st_packed_conv_free(st_packed_conv* w); /* NULL is a no-op */

/* ---- int8 quantization ----
 * Symmetric per-row int8: for each row r of x (rows×cols, ldx ≥ cols), scale[r] = max|x[r,:]| / 127 (1 for an
 * all-zero row) and q = clamp(round-half-even(x · (1 / scale)), -127, 127). For a Linear weight [out, in] a row is
 * an output channel. NaN or ±Inf in x: ST_OUT_OF_RANGE naming the row. */
ST_API st_status st_quantize_s8_rows(size_t rows, size_t cols, const float* x, size_t ldx, int8_t* q,
                                     float* scales);

/* ---- int8 GEMM: y = act(dequant(quant(x) · wᵀ) + bias) ----
 * w: int8 weights [n, k] (a Linear weight, row stride ldw ≥ k) with one scale per output row (n floats), e.g.
 * from st_quantize_s8_rows. x (m×k, f32) is quantized per row at run time (asymmetric u8); y is m×n f32. A row
 * of x holding NaN or ±Inf gives a row of NaN. */
typedef struct st_packed_s8 st_packed_s8;
ST_API st_status st_pack_s8(const int8_t* w, size_t ldw, size_t n, size_t k, const float* scales,
                            st_packed_s8** out);
ST_API st_status st_s8_linear(size_t m, const float* x, size_t ldx, st_packed_s8* w, const float* bias,
                              st_activation act, float* y, size_t ldy);
ST_API void st_packed_s8_free(st_packed_s8* w); /* NULL is a no-op */

/* ---- half GEMM: c = act(a · op(b) + bias), f32 accumulation and output ----
 * a: m×k and b: k×n (or n×k when trans_b), both of `type` (raw bits); c: m×n f32. Uses the CPU's native
 * f16/bf16 dot products where present, else converts to f32 in the kernel. */
ST_API st_status st_hgemm(size_t m, size_t n, size_t k, st_half_type type, const uint16_t* a, size_t lda,
                          const uint16_t* b, size_t ldb, int trans_b, const float* bias, st_activation act, float* c,
                          size_t ldc);

#ifdef __cplusplus
}
#endif
#endif /* SIMDTENSOR_H */
