// Reference HardSwish: x * relu6(x + 3) / 6, elementwise.
// float: TFLite's reference HardSwish, `in * min(6, max(0, in + 3)) / 6`.
// int8: TFLite's reference integer HardSwish (tensorflow/lite/kernels/internal/reference/
// hard_swish.h, parameters from HardSwishPrepare in kernels/activations.cc), in int16 fixed
// point: v = x - input zero point, hires = v * 2^7; pre_out = SRDHM16(hires, output
// multiplier); reluish = hires, left-shifted saturating by (reluish exponent - 1) when that
// exponent is positive, SRDHM16 by the reluish multiplier, then left-shifted saturating by 1
// (positive exponent) or divided by 2^-exponent rounding (negative); reluish = (reluish +
// 2^15) >> 1 (from [-1, 1] to [0, 1]); out = RoundingDivideByPOT(SDHM16(reluish, pre_out),
// -output exponent) + output zero point, clamped to int8. SRDHM16 is gemmlowp's int16
// SaturatingRoundingDoublingHighMul (rounds to nearest), SDHM16 TFLite's
// SaturatingDoublingHighMul (truncates toward zero); both saturate -32768 * -32768.
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

int16_t saturating_rounding_doubling_high_mul16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  const int32_t ab = int32_t{a} * int32_t{b};
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

int16_t saturating_doubling_high_mul16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  return static_cast<int16_t>(int32_t{a} * int32_t{b} / (1 << 15));
}

int16_t saturating_left_shift16(int16_t v, int amount) {
  const int64_t r = int64_t{v} * (int64_t{1} << amount);
  return static_cast<int16_t>(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

int8_t hard_swish_int8(int8_t x, const HardSwishParams& p) {
  const auto hires = static_cast<int16_t>((x - p.input_zero_point) * (1 << 7));
  const int16_t pre_out =
      saturating_rounding_doubling_high_mul16(hires, static_cast<int16_t>(p.output_multiplier));
  int16_t reluish = hires;
  if (p.reluish_exponent > 0) reluish = saturating_left_shift16(reluish, p.reluish_exponent - 1);
  reluish =
      saturating_rounding_doubling_high_mul16(reluish, static_cast<int16_t>(p.reluish_multiplier));
  if (p.reluish_exponent > 0) reluish = saturating_left_shift16(reluish, 1);
  if (p.reluish_exponent < 0)
    reluish = static_cast<int16_t>(fixed::rounding_divide_by_pot(reluish, -p.reluish_exponent));
  reluish = static_cast<int16_t>((reluish + (1 << 15)) >> 1);
  const int16_t pre = saturating_doubling_high_mul16(reluish, pre_out);
  // TFLite adds the zero point in int16 (wrapping), then clamps.
  const auto out = static_cast<int16_t>(fixed::rounding_divide_by_pot(pre, -p.output_exponent) +
                                        p.output_zero_point);
  return static_cast<int8_t>(fixed::clamp(out, -128, 127));
}

}  // namespace

Status check_HardSwish(const HardSwishParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.out[0].type;
  if (type != DType::i8 && type != DType::f32) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (type == DType::f32) return Status::ok;
  if (p.input_zero_point < -128 || p.input_zero_point > 127 || p.output_zero_point < -128 ||
      p.output_zero_point > 127)
    return Status::bad_params;
  if (p.output_multiplier < 0 || p.output_multiplier > INT16_MAX || p.reluish_multiplier < 0 ||
      p.reluish_multiplier > INT16_MAX)
    return Status::bad_params;
  if (p.output_exponent < -15 || p.output_exponent > 0 || p.reluish_exponent < -15 ||
      p.reluish_exponent > 15)
    return Status::bad_params;
  return Status::ok;
}

void eval_HardSwish(const HardSwishParams& p, const KernelIO& io) {
  const int32_t n = io.out[0].elements();
  if (io.out[0].type == DType::i8) {
    const int8_t* in = io.in[0].as<const int8_t>();
    int8_t* out = io.out[0].as<int8_t>();
    for (int32_t i = 0; i < n; ++i) out[i] = hard_swish_int8(in[i], p);
    return;
  }
  const float* in = io.in[0].as<const float>();
  float* out = io.out[0].as<float>();
  for (int32_t i = 0; i < n; ++i) {
    const float lifted = 0.0f < in[i] + 3 ? in[i] + 3 : 0.0f;  // std::max(0, in + 3)
    out[i] = in[i] * (lifted < 6.0f ? lifted : 6.0f) / 6;      // std::min(6, ...)
  }
}

}  // namespace tinyforge
