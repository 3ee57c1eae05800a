// Fused epilogue activations of the convolution families (depthwise, pooling's neighbours, conv2d): the codes, their
// parameters, one vector form written over traits V and the scalar reference the tests compare with.
#pragma once
#include <cmath>
#include <cstddef>
#include "kernels/f32-gemm/f32-gemm.h"  // kActNone/kActRelu/kActGelu: codes 0-2 here are the same values

namespace simdtensor {

// Codes 0-2 equal the GEMM's Activation values (so a GEMM epilogue code is a valid conv code); 3+ are conv-only.
enum ConvActivation : int {
  kConvActNone = kActNone,    // x
  kConvActRelu = kActRelu,    // max(x, 0)
  kConvActGelu = kActGelu,    // 0.5·x·(1 + erf(x/√2))
  kConvActClip = 3,           // min(max(x, a), b); relu6 is clip(0, 6)
  kConvActLeakyRelu = 4,      // x < 0 ? a·x : x
  kConvActSigmoid = 5,        // 1 / (1 + e^-x)
  kConvActHardSigmoid = 6,    // max(0, min(1, a·x + b))  (ONNX defaults a = 0.2, b = 0.5)
  kConvActHardSwish = 7,      // x · max(0, min(1, x/6 + 1/2))  (ONNX HardSwish)
  kConvActHardSwishAffine = 8,  // a · hardswish(x) + b  (PP-LCNetV3's learnable affine after its activation)
  kConvActCount = 9,
};

// An activation with its parameters (a, b as listed above; unused ones ignored).
struct ConvAct {
  int code = kConvActNone;
  float a = 0.0f, b = 0.0f;
};

inline bool conv_act_valid(const ConvAct& act) { return act.code >= 0 && act.code < kConvActCount; }

// Scalar reference (double where it matters). NaN in gives NaN out for every code.
inline float conv_act_reference(float x, const ConvAct& act) {
  if (std::isnan(x)) return x;
  const double d = x;
  switch (act.code) {
    case kConvActRelu: return x > 0.0f ? x : 0.0f;
    case kConvActGelu: return float(0.5 * d * (1.0 + std::erf(d * 0.70710678118654752440)));
    case kConvActClip: return x < act.a ? act.a : (x > act.b ? act.b : x);
    case kConvActLeakyRelu: return x < 0.0f ? float(d * act.a) : x;
    case kConvActSigmoid: return float(1.0 / (1.0 + std::exp(-d)));
    case kConvActHardSigmoid: {
      const double t = double(act.a) * d + double(act.b);
      return float(t < 0 ? 0 : t > 1 ? 1 : t);
    }
    case kConvActHardSwish:
    case kConvActHardSwishAffine: {
      const double t = d / 6.0 + 0.5;
      const double h = d * (t < 0 ? 0 : t > 1 ? 1 : t);
      return float(act.code == kConvActHardSwish ? h : double(act.a) * h + double(act.b));
    }
    default: return x;
  }
}

}  // namespace simdtensor
