// Offline requantization math: what TFLite's reference computes in its Prepare() step,
// done here once on the host (TFLite quantization_util.cc QuantizeMultiplier and
// kernel_util.cc CalculateActivationRangeQuantized define the arithmetic).
#pragma once
#include <cstdint>

#include "ir/graph.h"

namespace tinyforge::plan {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31 in [2^30, 2^31), or 0 for a zero scale
  int32_t shift = 0;       // signed exponent, positive = left shift
};

// real = multiplier * 2^(shift - 31), rounded as TFLite's QuantizeMultiplier does.
QuantizedMultiplier quantize_multiplier(double real);

struct ClampRange {
  int32_t min, max;
};

// int8 clamp bounds for a fused activation on an output with (scale, zero_point).
ClampRange activation_range_int8(ir::Activation act, float scale, int32_t zero_point);
// The same for `type`, int8 or int16 (TFLite's CalculateActivationRangeQuantized bounds the
// range by the output type's limits).
ClampRange activation_range(ir::Activation act, float scale, int32_t zero_point, DType type);

struct FloatRange {
  float min, max;
};
FloatRange activation_range_float(ir::Activation act);

}  // namespace tinyforge::plan
