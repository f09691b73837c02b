// TFLite's int8 LOG_SOFTMAX, re-derived from its published definition on top of
// gemmlowp_reference.h (not the runtime's fixed_point.h), for log_softmax_exact_test.cc and
// the kernel table. The definition followed:
//  - tflite-micro kernels/log_softmax.cc (CalculateOpData): output scale 16/256 and zero
//    point 127; beta 1; PreprocessLogSoftmaxScalingExp(1, s_in, 5) and
//    diff_min = -CalculateInputRadius(5, left_shift); the reverse shift stored negated and
//    negated again at the call;
//  - tensorflow/lite/kernels/internal/quantization_util.cc (PreprocessSoftmaxScaling:
//    min(beta * s_in * 2^26, 2^31 - 1), QuantizeMultiplierGreaterThanOne; the reverse
//    divisor 2^(31 - left_shift) / multiplier, QuantizeMultiplierSmallerThanOneExp;
//    CalculateInputRadius: floor(31 * 2^26 / 2^left_shift));
//  - tensorflow/lite/kernels/internal/reference/log_softmax.h (LogSoftmaxQuantized): per
//    row the d = x - max >= diff_min are rescaled by MultiplyByQuantizedMultiplier into
//    Q5.26, exp_on_negative_values, Rescale<12> and summed; log_x_for_x_greater_than_or_
//    equal_to_1<5>; adjusted_diff_min = max(diff_min - 1, MultiplyByQuantizedMultiplier(
//    log_sum + INT32_MIN, reverse divisor, reverse shift)); d > adjusted_diff_min outputs
//    RoundingDivideByPOT(q5 - log_sum, 22) + 127 clamped, the others -128;
//  - tensorflow/lite/kernels/internal/common.h (log_x_for_x_greater_than_or_equal_to_1_impl,
//    SaturatingAddNonGemmlowp, SaturatingSub, SaturatingRoundingMultiplyByPOTParam).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gemmlowp_reference.h"

namespace tinyforge::tflite_log_softmax {

using namespace gemmlowp_reference;

inline int clz(uint32_t x) {
  int n = 0;
  for (uint32_t bit = 0x80000000u; bit != 0 && (x & bit) == 0; bit >>= 1) ++n;
  return n;
}

inline int32_t saturate(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

// log_x_for_x_greater_than_or_equal_to_1_impl<O, I> (common.h).
template <int O, int I>
Fx<O> log_x_for_x_greater_than_or_equal_to_1(Fx<I> input) {
  constexpr int A = O + 1;  // kAccumIntegerBits
  const double fourth_root_2 = std::sqrt(std::sqrt(2.0));
  const Fx<0> log_2 = Fx<0>::constant(std::log(2.0));
  const Fx<0> sqrt_sqrt_half = Fx<0>::constant(std::sqrt(std::sqrt(0.5)));
  const Fx<0> sqrt_half = Fx<0>::constant(std::sqrt(0.5));
  const Fx<0> one_quarter = Fx<0>::constant(0.25);
  const Fx<0> alpha_n = Fx<0>::constant(11.0 / 240.0 * fourth_root_2);
  const Fx<0> alpha_d = Fx<0>::constant(1.0 / 20.0 * fourth_root_2);
  const Fx<0> alpha_i = Fx<0>::constant(2.0 / fourth_root_2 - fourth_root_2);
  const Fx<0> alpha_f = Fx<0>::constant(1.0 / 4.0 * fourth_root_2);
  const Fx<A> shifted_quarter = rescale<A>(one_quarter);

  const Fx<0> z_a{input.raw};
  const int z_a_headroom_plus_1 = clz(static_cast<uint32_t>(z_a.raw));
  const Fx<0> r_a_tmp{srmbpot(z_a.raw, z_a_headroom_plus_1 - 1)};
  const int32_t r_a_raw = srmbpot((r_a_tmp * sqrt_half).raw, 1);
  const Fx<A> z_a_pow_2_adj{
      saturate(int64_t{srmbpot(I - z_a_headroom_plus_1, 31 - A)} + shifted_quarter.raw)};
  const Fx<0> z_b = z_a * sqrt_half;
  const int z_b_headroom = clz(static_cast<uint32_t>(z_b.raw)) - 1;
  const int32_t r_b_raw = srmbpot(z_a.raw, z_b_headroom);
  const Fx<A> z_b_pow_2_adj{
      saturate(int64_t{srmbpot(I - z_b_headroom, 31 - A)} - shifted_quarter.raw)};
  const Fx<0> r{std::min(r_a_raw, r_b_raw)};
  const Fx<A> z_pow_2_adj{std::max(z_a_pow_2_adj.raw, z_b_pow_2_adj.raw)};

  const Fx<0> p = rounding_half_sum(r, sqrt_sqrt_half);
  Fx<0> q = r - sqrt_sqrt_half;
  q = q + q;
  const Fx<0> common_sq = q * q;
  const Fx<0> num = q * r + q * common_sq * alpha_n;
  const Fx<0> denom_minus_one_0 = p * (alpha_i + q + alpha_d * common_sq) + alpha_f * q;
  const Fx<0> recip_denom = one_over_one_plus_x_for_x_in_0_1(denom_minus_one_0);
  const Fx<A> num_scaled = rescale<A>(num);
  return rescale<O>(z_pow_2_adj * log_2 + num_scaled * recip_denom);
}

// tflite-micro's LogSoftmaxOpData, as CalculateOpData fills it.
struct OpData {
  int32_t input_multiplier, input_left_shift, reverse_scaling_divisor, reverse_scaling_right_shift,
      diff_min;
};

// QuantizeMultiplier: frexp, the fraction rounded to Q31 (renormalized at 2^31), flushed to 0
// below 2^-31.
inline void quantize_multiplier(double real, int32_t* multiplier, int* shift) {
  const double q = std::frexp(real, shift);
  int64_t fixed = std::llround(q * (1LL << 31));
  if (fixed == (1LL << 31)) {
    fixed /= 2;
    ++*shift;
  }
  if (*shift < -31) {
    *shift = 0;
    fixed = 0;
  }
  *multiplier = static_cast<int32_t>(fixed);
}

inline OpData op_data(float input_scale) {
  OpData d{};
  const double real =
      std::min(1.0 * static_cast<double>(input_scale) * (1 << (31 - 5)), (1LL << 31) - 1.0);
  int left_shift = 0, reverse_left_shift = 0;
  quantize_multiplier(real, &d.input_multiplier, &left_shift);
  const double reverse = (1 << (31 - left_shift)) / static_cast<double>(d.input_multiplier);
  quantize_multiplier(reverse, &d.reverse_scaling_divisor, &reverse_left_shift);
  d.input_left_shift = left_shift;
  d.reverse_scaling_right_shift = -reverse_left_shift;
  const double radius = 1.0 * ((1 << 5) - 1) * (1LL << (31 - 5)) / (1LL << left_shift);
  d.diff_min = -static_cast<int32_t>(std::floor(radius));
  return d;
}

inline std::vector<int8_t> log_softmax_int8(const std::vector<int8_t>& x, int depth,
                                            const OpData& d) {
  std::vector<int8_t> y(x.size());
  for (size_t row = 0; row < x.size() / static_cast<size_t>(depth); ++row) {
    const int8_t* in = &x[row * static_cast<size_t>(depth)];
    int8_t* out = &y[row * static_cast<size_t>(depth)];
    const int32_t max_in_row = *std::max_element(in, in + depth);
    int64_t sum = 0;  // Q12.19; 300 elements stay far below 2^31
    for (int c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff < d.diff_min) continue;
      const Fx<5> q5{
          multiply_by_quantized_multiplier(diff, d.input_multiplier, d.input_left_shift)};
      sum += rescale<12>(exp_on_negative_values(q5)).raw;
    }
    const int32_t log_sum = log_x_for_x_greater_than_or_equal_to_1<5>(Fx<12>{saturate(sum)}).raw;
    const int32_t shifted = add(log_sum, std::numeric_limits<int32_t>::min());
    const int32_t adjusted_diff_min = std::max(
        d.diff_min - 1, multiply_by_quantized_multiplier(shifted, d.reverse_scaling_divisor,
                                                         -d.reverse_scaling_right_shift));
    for (int c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff > adjusted_diff_min) {
        const int32_t q5 =
            multiply_by_quantized_multiplier(diff, d.input_multiplier, d.input_left_shift);
        const int32_t v = rdbpot(sub(q5, log_sum), 31 - 5 - 4) + 127;
        out[c] = static_cast<int8_t>(std::clamp(v, -128, 127));
      } else {
        out[c] = -128;
      }
    }
  }
  return y;
}

}  // namespace tinyforge::tflite_log_softmax
