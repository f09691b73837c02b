// Reference Tanh. float32: std::tanh. int8 follows TFLite's reference_integer_ops::Tanh:
// x - input_zero_point saturates to -128 / 127 beyond +-input_range_radius; otherwise it
// is rescaled to Q4.27 by MultiplyByQuantizedMultiplier, passed through gemmlowp's
// fixed-point tanh (fixedpoint.h `tanh`: (1 - e)/(1 + e) with e = exp(-2|a|) computed by
// exp_on_negative_values on the same raw value read with 5 integer bits, sign restored,
// exactly 0 at 0), and the Q0.31 result is divided by 2^24 with rounding and clamped
// (output scale 1/128, zero point 0). int16 follows the int16 reference_integer_ops::Tanh
// (output scale 2^-15, zero point 0) through tanh(x) = 2 * sigmoid(2x) - 1: |x| (units of
// 1 / (3 * 4096)) indexes the sigmoid table by its top bits (>> 8, which doubles x) and
// interpolates with the low 8, saturating from entry 255; 2^23 (one half) is subtracted
// and the result rounded back to Q0.15, mirrored for x < 0.
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/sigmoid_family.h"
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
    x = fixed::wrapping_add(x, fixed::rescale(fixed::saturating_rounding_doubling_high_mul(
                                                  x, fixed::wrapping_sub(kOneQ2, hx)),
                                              4, 2));
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
  return sigmoid_family::check(p, io, 0);
}

void eval_Tanh(const TanhParams& p, const KernelIO& io) {
  sigmoid_family::eval(
      p, io,
      [](int32_t q4) {
        return fixed::clamp(fixed::rounding_divide_by_pot(tanh_q4(q4), 31 - 7), -128, 127);
      },
      sigmoid_family::tanh_int16, [](float x) { return std::tanh(x); });
}

}  // namespace tinyforge
