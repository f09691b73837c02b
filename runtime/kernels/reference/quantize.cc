// Reference Quantize, int8 and int16 outputs (TFLite Micro's QUANTIZE: float32 -> int8 or
// int16, and requantization between int8 and int16 in any direction).
//   float32 -> int8 / int16: out = clamp(round(in / scale) + zero_point) to the output's
//     range, the division in single precision and round() half away from zero, as TFLite's
//     reference AffineQuantize.
//   int8 / int16 -> int8 / int16 (requantize): out = clamp(MultiplyByQuantizedMultiplier(in -
//     input_zero_point, multiplier, shift) + zero_point) to the output's range, as TFLite's
//     reference Requantize (kernels/internal/reference/requantize.h).
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

using view::is_quantized;

// The stored range of an int8 or int16 tensor.
struct Range {
  int32_t lo, hi;
};
Range range_of(DType t) { return t == DType::i8 ? Range{-128, 127} : Range{-32768, 32767}; }

int32_t quantize_float(float v, float scale, int32_t zero_point, Range r) {
  float q = std::round(v / scale);
  // Keep the float->int conversion defined for huge values, infinities and NaN; every
  // clamped value still lands on the same output (NaN goes to the minimum like the x86
  // reference).
  constexpr float kLimit = 16777216.0f;  // 2^24
  if (!(q >= -kLimit)) q = -kLimit;
  if (q > kLimit) q = kLimit;
  return fixed::clamp(static_cast<int32_t>(q) + zero_point, r.lo, r.hi);
}

template <typename In, typename Out>
void requantize(const QuantizeParams& p, const In* in, Out* out, int32_t n, Range r) {
  for (int32_t i = 0; i < n; ++i) {
    const int32_t v =
        fixed::multiply_by_quantized_multiplier(in[i] - p.input_zero_point, p.multiplier, p.shift);
    out[i] = static_cast<Out>(fixed::clamp(fixed::wrapping_add(v, p.zero_point), r.lo, r.hi));
  }
}

template <typename Out>
void quantize_to(const QuantizeParams& p, const KernelIO& io, Range r) {
  Out* out = io.out[0].as<Out>();
  const int32_t n = static_cast<int32_t>(view::element_count(io.out[0]));
  switch (io.in[0].type) {
    case DType::f32: {
      const float* in = io.in[0].as<const float>();
      for (int32_t i = 0; i < n; ++i)
        out[i] = static_cast<Out>(quantize_float(in[i], p.scale, p.zero_point, r));
      return;
    }
    case DType::i8:
      return requantize(p, io.in[0].as<const int8_t>(), out, n, r);
    default:
      return requantize(p, io.in[0].as<const int16_t>(), out, n, r);
  }
}

}  // namespace

Status check_Quantize(const QuantizeParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!is_quantized(out.type) || (in.type != DType::f32 && !is_quantized(in.type)))
    return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  if (view::element_count(in) != view::element_count(out)) return Status::bad_shape;
  const Range r = range_of(out.type);
  if (p.zero_point < r.lo || p.zero_point > r.hi) return Status::bad_params;
  if (in.type == DType::f32) {
    if (!(p.scale > 0.0f)) return Status::bad_params;  // also rejects NaN
  } else {
    const Range ri = range_of(in.type);
    if (p.input_zero_point < ri.lo || p.input_zero_point > ri.hi) return Status::bad_params;
    if (p.multiplier < 0 || p.shift < -31 || p.shift > 30) return Status::bad_params;
  }
  return Status::ok;
}

void eval_Quantize(const QuantizeParams& p, const KernelIO& io) {
  if (io.out[0].type == DType::i8) {
    quantize_to<int8_t>(p, io, range_of(DType::i8));
  } else {
    quantize_to<int16_t>(p, io, range_of(DType::i16));
  }
}

}  // namespace tinyforge
