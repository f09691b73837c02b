// Reference Tanh. float32: std::tanh. int8 follows TFLite's reference_integer_ops::Tanh:
// x - input_zero_point saturates to -128 / 127 beyond +-input_range_radius; otherwise it
// is rescaled to Q4.27 by MultiplyByQuantizedMultiplier, passed through gemmlowp's
// fixed-point tanh (fixedpoint.h `tanh`: (1 - e)/(1 + e) with e = exp(-2|a|) computed by
// exp_on_negative_values on the same raw value read with 5 integer bits, sign restored,
// exactly 0 at 0), and the Q0.31 result is divided by 2^24 with rounding and clamped
// (output scale 1/128, zero point 0).
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// (1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out: the Newton-Raphson division of
// gemmlowp's one_minus_x_over_one_plus_x_for_x_in_0_1 (constants 48/17 and -32/17 in
// Q2.29, three iterations), returning x - 1 instead of x / 2.
int32_t one_minus_x_over_one_plus_x(int32_t a) {
  constexpr int32_t kFortyEightOverSeventeen = 1515870810;
  constexpr int32_t kMinusThirtyTwoOverSeventeen = -1010580540;
  constexpr int32_t kOneQ2 = 1 << 29;
  const int32_t half_denominator = fixed::rounding_half_sum(a, INT32_MAX);
  int32_t x = fixed::wrapping_add(
      kFortyEightOverSeventeen,
      fixed::saturating_rounding_doubling_high_mul(half_denominator, kMinusThirtyTwoOverSeventeen));
  for (int i = 0; i < 3; ++i) {
    const int32_t hx = fixed::saturating_rounding_doubling_high_mul(half_denominator, x);
    x = fixed::wrapping_add(
        x, fixed::rescale(fixed::saturating_rounding_doubling_high_mul(x, fixed::wrapping_sub(kOneQ2, hx)), 4, 2));
  }
  return fixed::rescale(fixed::wrapping_sub(x, kOneQ2), 2, 0);
}

// gemmlowp::tanh for a FixedPoint<int32_t, 4> input; result in Q0.31.
int32_t tanh_q4(int32_t a) {
  if (a == 0) return 0;
  const int32_t negative = a < 0 ? a : fixed::wrapping_sub(0, a);
  const int32_t t = one_minus_x_over_one_plus_x(fixed::exp_on_negative_values(negative, 5));
  return a < 0 ? fixed::wrapping_sub(0, t) : t;
}

}  // namespace

Status check_Tanh(const TanhParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.in[0].type;
  if (type != DType::f32 && type != DType::i8) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (type == DType::i8) {
    if (io.out[0].zero_point != 0) return Status::bad_params;
    if (p.input_zero_point < -128 || p.input_zero_point > 127 || p.input_range_radius < 0 ||
        p.input_multiplier < 0 || p.input_left_shift < -31 || p.input_left_shift > 31)
      return Status::bad_params;
  }
  return Status::ok;
}

void eval_Tanh(const TanhParams& p, const KernelIO& io) {
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
        out[i] = static_cast<int8_t>(fixed::clamp(fixed::rounding_divide_by_pot(tanh_q4(q4), 31 - 7), -128, 127));
      }
    }
    return;
  }
  const float* in = io.in[0].as<const float>();
  float* out = io.out[0].as<float>();
  for (int32_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
}

}  // namespace tinyforge
