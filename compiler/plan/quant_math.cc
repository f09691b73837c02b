#include "plan/quant_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tinyforge::plan {

QuantizedMultiplier quantize_multiplier(double real) {
  QuantizedMultiplier q;
  if (real == 0.0) return q;
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);  // real = fraction * 2^exponent
  int64_t q_fixed = static_cast<int64_t>(std::round(fraction * (1LL << 31)));
  if (q_fixed == (1LL << 31)) {  // rounding reached 1.0: renormalize
    q_fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) {  // too small to represent: flush to zero like the reference
    exponent = 0;
    q_fixed = 0;
  }
  // TFLite caps the shift at 30 only in its TFLITE_SINGLE_ROUNDING build; TFLM's default
  // (double rounding) keeps e.g. shift 31 for PreprocessSoftmaxScaling's 2^31 - 1. We bound
  // the shift at 31 so a left shift stays defined on 32-bit values.
  if (exponent > 31) {
    exponent = 31;
    q_fixed = (1LL << 31) - 1;
  }
  q.multiplier = static_cast<int32_t>(q_fixed);
  q.shift = exponent;
  return q;
}

ClampRange activation_range_int8(ir::Activation act, float scale, int32_t zero_point) {
  return activation_range(act, scale, zero_point, DType::i8);
}

ClampRange activation_range(ir::Activation act, float scale, int32_t zero_point, DType type) {
  const bool int16 = type == DType::i16;
  const int32_t qmin = int16 ? std::numeric_limits<int16_t>::min() : -128;
  const int32_t qmax = int16 ? std::numeric_limits<int16_t>::max() : 127;
  // In double and clamped before the conversion: a tiny scale must not overflow int32.
  auto quantize = [&](float x) {
    const double q = zero_point + std::round(static_cast<double>(x) / scale);
    return static_cast<int32_t>(std::clamp(q, -1e9, 1e9));
  };
  ClampRange r{qmin, qmax};
  switch (act) {
    case ir::Activation::none:
      break;
    case ir::Activation::relu:
      r.min = std::max(qmin, quantize(0.0f));
      break;
    case ir::Activation::relu6:
      r.min = std::max(qmin, quantize(0.0f));
      r.max = std::min(qmax, quantize(6.0f));
      break;
    case ir::Activation::relu_n1_to_1:
      r.min = std::max(qmin, quantize(-1.0f));
      r.max = std::min(qmax, quantize(1.0f));
      break;
  }
  return r;
}

FloatRange activation_range_float(ir::Activation act) {
  const float inf = std::numeric_limits<float>::infinity();
  switch (act) {
    case ir::Activation::none:
      return {-inf, inf};
    case ir::Activation::relu:
      return {0.0f, inf};
    case ir::Activation::relu6:
      return {0.0f, 6.0f};
    case ir::Activation::relu_n1_to_1:
      return {-1.0f, 1.0f};
  }
  return {-inf, inf};
}

}  // namespace tinyforge::plan
