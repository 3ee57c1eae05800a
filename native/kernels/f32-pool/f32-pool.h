// f32 pooling family: max and average pooling over a window (pads, strides, dilations, ceil-mode windows that run
// past the input, count_include_pad), and global average/max pooling. NHWC over channels, NCHW over output width.
#pragma once
#include <cstddef>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

enum PoolKind : int { kPoolMax = 0, kPoolAvg = 1 };

// One image's geometry. pb/pr (bottom/right padding) only matter for count_include_pad: the average's divisor counts
// the taps inside [−pt, ih + pb) × [−pl, iw + pr); otherwise only the taps inside the input. Windows may reach past
// the padding (ceil mode); those taps are ignored. Every window must hold at least one input tap.
struct PoolShape {
  size_t c;
  size_t ih, iw, oh, ow;
  size_t kh, kw, sh, sw, dh, dw;
  size_t pt, pl, pb, pr;
  bool count_include_pad;
};

struct F32PoolVariant {
  const char* name;
  Isa isa;
  // NHWC, output rows [oy0, oy1) of one image: x [ih][iw][c] → y [oh][ow][c].
  void (*nhwc)(int kind, const PoolShape& s, const float* x, float* y, size_t oy0, size_t oy1);
  // NCHW, output rows [oy0, oy1) of one plane: x [ih][iw] → y [oh][ow]. scratch: f32_pool_nchw_scratch floats.
  void (*nchw)(int kind, const PoolShape& s, const float* x, float* y, size_t oy0, size_t oy1, float* scratch);
  // Global pooling of `c` channels over `hw` pixels: NHWC x [hw][ldx] (c channels of rows ldx apart), NCHW
  // x [c][hw] → y [c].
  void (*global_nhwc)(int kind, size_t hw, size_t c, size_t ldx, const float* x, float* y);
  void (*global_nchw)(int kind, size_t hw, size_t c, const float* x, float* y);
};

// Taps of a window along one axis that the average divides by (see PoolShape).
size_t pool_axis_count(size_t o, size_t s, size_t p, size_t pend, size_t d, size_t k, size_t in, bool include_pad);
size_t f32_pool_nchw_scratch(const PoolShape& s, size_t rows);

#define ST_F32_POOL(sym, isa) extern const F32PoolVariant sym;
#include "kernels/f32-pool/kernels.inc"
#undef ST_F32_POOL

// Every compiled variant, best first; filled in cpu/dispatch.cc from kernels.inc (ops call .select()).
extern const VariantTable<F32PoolVariant> f32_pool_table;

// Plain loops (double sums): the tests' reference.
extern const F32PoolVariant f32_pool_reference;

}  // namespace simdtensor
