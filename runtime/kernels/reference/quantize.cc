// Reference Quantize.
//   float32 -> int8: out = clamp(round(in / scale) + zero_point), the division in single
//     precision and round() half away from zero, as TFLite's reference AffineQuantize.
//   int8 -> int8 (requantize): out = clamp(MultiplyByQuantizedMultiplier(in -
//     input_zero_point, multiplier, shift) + zero_point), as TFLite's reference Requantize.
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

int8_t quantize_float(float v, float scale, int32_t zero_point) {
  float r = std::round(v / scale);
  // Keep the float->int conversion defined for huge values, infinities and NaN; every
  // clamped value still lands on the same int8 (NaN goes to -128 like the x86 reference).
  constexpr float kLimit = 16777216.0f;  // 2^24
  if (!(r >= -kLimit)) r = -kLimit;
  if (r > kLimit) r = kLimit;
  return static_cast<int8_t>(fixed::clamp(static_cast<int32_t>(r) + zero_point, -128, 127));
}

}  // namespace

Status check_Quantize(const QuantizeParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (out.type != DType::i8 || (in.type != DType::f32 && in.type != DType::i8))
    return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  if (view::element_count(in) != view::element_count(out)) return Status::bad_shape;
  if (p.zero_point < -128 || p.zero_point > 127) return Status::bad_params;
  if (in.type == DType::f32) {
    if (!(p.scale > 0.0f)) return Status::bad_params;  // also rejects NaN
  } else {
    if (p.input_zero_point < -128 || p.input_zero_point > 127) return Status::bad_params;
    if (p.multiplier < 0 || p.shift < -31 || p.shift > 30) return Status::bad_params;
  }
  return Status::ok;
}

void eval_Quantize(const QuantizeParams& p, const KernelIO& io) {
  int8_t* out = io.out[0].as<int8_t>();
  const int32_t n = static_cast<int32_t>(view::element_count(io.out[0]));
  if (io.in[0].type == DType::f32) {
    const float* in = io.in[0].as<const float>();
    for (int32_t i = 0; i < n; ++i) out[i] = quantize_float(in[i], p.scale, p.zero_point);
    return;
  }
  const int8_t* in = io.in[0].as<const int8_t>();
  for (int32_t i = 0; i < n; ++i) {
    const int32_t v =
        fixed::multiply_by_quantized_multiplier(in[i] - p.input_zero_point, p.multiplier, p.shift);
    out[i] = static_cast<int8_t>(fixed::clamp(fixed::wrapping_add(v, p.zero_point), -128, 127));
  }
}

}  // namespace tinyforge
