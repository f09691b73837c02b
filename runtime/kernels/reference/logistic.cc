// Reference Logistic (sigmoid). float32: 1 / (1 + exp(-x)). int8 follows TFLite's
// reference_integer_ops::Logistic: x - input_zero_point saturates to -128 / 127 beyond
// +-input_range_radius; otherwise it is rescaled to Q4.27 by MultiplyByQuantizedMultiplier
// (input_multiplier, input_left_shift), passed through gemmlowp's fixed-point logistic
// (fixedpoint.h `logistic`: 1/(1+exp(-|a|)) by exp_on_negative_values and
// one_over_one_plus_x_for_x_in_0_1, mirrored for a < 0, exactly 1/2 at 0), and the Q0.31
// result is divided by 2^23 with rounding and offset by the output zero point -128 (output
// scale 1/256).
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// gemmlowp::logistic for a FixedPoint<int32_t, 4> input; result in Q0.31.
int32_t logistic_q4(int32_t a) {
  if (a == 0) return 1 << 30;
  const int32_t magnitude = a > 0 ? a : fixed::wrapping_sub(0, a);
  const int32_t if_positive = fixed::one_over_one_plus_x_for_x_in_0_1(
      fixed::exp_on_negative_values(fixed::wrapping_sub(0, magnitude), 4));
  return a > 0 ? if_positive : fixed::wrapping_sub(INT32_MAX, if_positive);
}

}  // namespace

Status check_Logistic(const LogisticParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.in[0].type;
  if (type != DType::f32 && type != DType::i8) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (type == DType::i8) {
    if (io.out[0].zero_point != -128) return Status::bad_params;
    if (p.input_zero_point < -128 || p.input_zero_point > 127 || p.input_range_radius < 0 ||
        p.input_multiplier < 0 || p.input_left_shift < -31 || p.input_left_shift > 31)
      return Status::bad_params;
  }
  return Status::ok;
}

void eval_Logistic(const LogisticParams& p, const KernelIO& io) {
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
        const int32_t q4 = fixed::multiply_by_quantized_multiplier(x, p.input_multiplier, p.input_left_shift);
        const int32_t q = fixed::rounding_divide_by_pot(logistic_q4(q4), 31 - 8);
        out[i] = static_cast<int8_t>(fixed::clamp(q - 128, -128, 127));
      }
    }
    return;
  }
  const float* in = io.in[0].as<const float>();
  float* out = io.out[0].as<float>();
  for (int32_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
}

}  // namespace tinyforge
