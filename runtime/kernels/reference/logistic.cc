// Reference Logistic (sigmoid). float32: 1 / (1 + exp(-x)). int8 follows TFLite's
// reference_integer_ops::Logistic: x - input_zero_point saturates to -128 / 127 beyond
// +-input_range_radius; otherwise it is rescaled to Q4.27 by MultiplyByQuantizedMultiplier
// (input_multiplier, input_left_shift), passed through gemmlowp's fixed-point logistic
// (fixedpoint.h `logistic`: 1/(1+exp(-|a|)) by exp_on_negative_values and
// one_over_one_plus_x_for_x_in_0_1, mirrored for a < 0, exactly 1/2 at 0), and the Q0.31
// result is divided by 2^23 with rounding and offset by the output zero point -128 (output
// scale 1/256). int16 follows the int16 reference_integer_ops::Logistic (output scale 2^-15,
// zero point 0): |x| (units of 1 / (3 * 4096)) indexes the sigmoid table by its top bits
// (>> 9) and interpolates with the low 9, saturating from entry 255; the Q0.16 result in
// 2^-9 steps is rounded back to Q0.15, mirrored as 1 - sigmoid(|x|) for x < 0.
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/sigmoid_family.h"
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
  return sigmoid_family::check(p, io, -128);
}

void eval_Logistic(const LogisticParams& p, const KernelIO& io) {
  sigmoid_family::eval(
      p, io,
      [](int32_t q4) {
        const int32_t q = fixed::rounding_divide_by_pot(logistic_q4(q4), 31 - 8);
        return fixed::clamp(q - 128, -128, 127);
      },
      sigmoid_family::logistic_int16, [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
}

}  // namespace tinyforge
