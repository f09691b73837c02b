// What the reference Logistic and Tanh kernels share (TFLite's reference_integer_ops run
// both the same way): the shape and params checks, and the int8 walk where
// x - input_zero_point saturates to -128 / 127 beyond +-input_range_radius and is otherwise
// rescaled to Q4.27 by MultiplyByQuantizedMultiplier before the op's own fixed-point curve.
// Params: LogisticParams / TanhParams (same fields).
#pragma once
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge::sigmoid_family {

// `output_zero_point`: the one the int8 kernel writes (-128 logistic, 0 tanh).
template <typename Params>
Status check(const Params& p, const KernelIO& io, int32_t output_zero_point) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.in[0].type;
  if (type != DType::f32 && type != DType::i8) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (type == DType::i8) {
    if (io.out[0].zero_point != output_zero_point) return Status::bad_params;
    if (p.input_zero_point < -128 || p.input_zero_point > 127 || p.input_range_radius < 0 ||
        p.input_multiplier < 0 || p.input_left_shift < -31 || p.input_left_shift > 31)
      return Status::bad_params;
  }
  return Status::ok;
}

// int8: out[i] = from_q4(x rescaled to Q4.27) inside the radius; float: out[i] = f(in[i]).
template <typename Params, typename FromQ4, typename Float>
void eval(const Params& p, const KernelIO& io, FromQ4 from_q4, Float f) {
  const auto n = static_cast<int32_t>(view::element_count(io.in[0]));
  if (io.in[0].type == DType::i8) {
    const int8_t* in = io.in[0].as<const int8_t>();
    int8_t* out = io.out[0].as<int8_t>();
    for (int32_t i = 0; i < n; ++i) {
      const int32_t x = in[i] - p.input_zero_point;
      if (x <= -p.input_range_radius) {
        out[i] = -128;
      } else if (x >= p.input_range_radius) {
        out[i] = 127;
      } else {
        out[i] = static_cast<int8_t>(from_q4(
            fixed::multiply_by_quantized_multiplier(x, p.input_multiplier, p.input_left_shift)));
      }
    }
    return;
  }
  const float* in = io.in[0].as<const float>();
  float* out = io.out[0].as<float>();
  for (int32_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

}  // namespace tinyforge::sigmoid_family
