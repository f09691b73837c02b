// Integer requantization arithmetic of the TFLite reference kernels (gemmlowp's
// fixed-point semantics, as described in the TFLite quantization specification and
// gemmlowp/fixedpoint/fixedpoint.h). Shared by all int8 kernels; bit-exactness with the
// reference depends on these exact rounding rules.
#pragma once
#include <climits>
#include <cstdint>

namespace tinyforge::fixed {

// (a * b * 2) >> 32 with rounding to nearest (ties away from zero); saturates the single
// overflow case a == b == INT32_MIN.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (1LL << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero (exponent in [0, 31]).
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((1LL << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + ((x < 0) ? 1 : 0);
  return (x >> exponent) + ((remainder > threshold) ? 1 : 0);
}

// x * multiplier * 2^shift, where multiplier is a Q31 value in [2^30, 2^31) and shift is
// TFLite's signed exponent (positive = left shift).
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier),
                                right_shift);
}

inline int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The 64-bit-accumulator form of TFLite's MultiplyByQuantizedMultiplier (kernels/internal/
// common.cc, int64_t overload; the 16x8 kernels use it): the Q31 multiplier is first rounded
// to 16 bits (saturating at 0x7FFF), then x * that + 2^(s - 1) is shifted right by
// s = 15 - shift, one rounding; TFLite defines it for shift in [-31, 7], which the clamp keeps
// (no valid plan has another), and the result is truncated to 32 bits. The product and sum
// wrap modulo 2^64 where TFLite's inputs (|x| < 2^47) never reach.
inline int32_t multiply_by_quantized_multiplier_64(int64_t x, int32_t multiplier, int shift) {
  const int64_t reduced =
      multiplier < 0x7FFF0000 ? (int64_t{multiplier} + (1 << 15)) >> 16 : 0x7FFF;
  const int clamped = shift < -31 ? -31 : (shift > 7 ? 7 : shift);
  const int total_shift = 15 - clamped;
  const uint64_t rounded = static_cast<uint64_t>(x) * static_cast<uint64_t>(reduced) +
                           (uint64_t{1} << (total_shift - 1));
  return static_cast<int32_t>(static_cast<int64_t>(rounded) >> total_shift);
}

}  // namespace tinyforge::fixed

// ---------------------------------------------------------------------------------------
// Fixed-point exp and reciprocal used by the int8 softmax. Values are raw int32 in a Q format
// "with N integer bits" (gemmlowp's FixedPoint<int32_t, N>: 1 sign bit, N integer bits,
// 31 - N fractional bits). Polynomial, Newton-Raphson steps and constants follow gemmlowp's
// fixedpoint/fixedpoint.h (exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1) and
// TFLite's kernels/internal/common.h (GetReciprocal), which define the reference results.
// Additions and subtractions wrap (two's complement) where gemmlowp leaves overflow undefined.
namespace tinyforge::fixed {

inline int32_t wrapping_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t wrapping_sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}

// x * 2^exponent for exponent in [0, 31], saturating to [INT32_MIN, INT32_MAX]
// (gemmlowp's SaturatingRoundingMultiplyByPOT with a positive exponent).
inline int32_t saturating_shift_left(int32_t x, int exponent) {
  if (exponent == 0) return x;
  const int32_t threshold = static_cast<int32_t>((1LL << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

// Changes a value from src_integer_bits to dst_integer_bits (gemmlowp's Rescale): a
// saturating left shift when gaining fractional bits, a rounding right shift otherwise.
inline int32_t rescale(int32_t x, int src_integer_bits, int dst_integer_bits) {
  const int exponent = src_integer_bits - dst_integer_bits;
  return exponent >= 0 ? saturating_shift_left(x, exponent) : rounding_divide_by_pot(x, -exponent);
}

// (a + b) / 2 rounded half away from zero, computed without overflow (gemmlowp's
// RoundingHalfSum).
inline int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + static_cast<int64_t>(b);
  return static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

// Number of leading zero bits of a 32-bit value (32 for 0).
inline int count_leading_zeros(uint32_t x) {
  if (x == 0) return 32;
  int n = 0;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
}

// exp(a) for a in [-1/4, 0), a and result in Q0.31: Taylor expansion around -1/8.
inline int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
  constexpr int32_t kExpMinusOneEighth = 1895147668;  // exp(-1/8) in Q0.31
  constexpr int32_t kOneThird = 715827883;            // 1/3 in Q0.31
  const int32_t x = wrapping_add(a, 1 << 28);         // a + 1/8
  const int32_t x2 = saturating_rounding_doubling_high_mul(x, x);
  const int32_t x3 = saturating_rounding_doubling_high_mul(x2, x);
  const int32_t x4 = saturating_rounding_doubling_high_mul(x2, x2);
  const int32_t x4_over_4 = rounding_divide_by_pot(x4, 2);
  const int32_t poly = rounding_divide_by_pot(
      wrapping_add(saturating_rounding_doubling_high_mul(wrapping_add(x4_over_4, x3), kOneThird),
                   x2),
      1);  // x^4/24 + x^3/6 + x^2/2
  return wrapping_add(kExpMinusOneEighth, saturating_rounding_doubling_high_mul(
                                              kExpMinusOneEighth, wrapping_add(x, poly)));
}

// exp(a) for a <= 0 given with `integer_bits` integer bits (0..29); result in Q0.31.
// Splits a into a multiple of 1/4 and a remainder in [-1/4, 0), then multiplies in
// exp(-2^k) for each set bit of the multiple ("barrel shifter").
inline int32_t exp_on_negative_values(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = static_cast<int32_t>(1u << (fractional_bits - 2));
  const int32_t a_mod_quarter_minus_one_quarter = wrapping_sub(a & (one_quarter - 1), one_quarter);
  int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
  const int32_t remainder = wrapping_sub(a_mod_quarter_minus_one_quarter, a);

  // exp(-2^k) in Q0.31 for k = -2 .. 4.
  constexpr int32_t kExpMinusPow2[] = {1672461947, 1302514674, 790015084, 290630308,
                                       39332535,   720401,     242};
  for (int k = -2; k <= 4; ++k) {
    if (integer_bits > k) {
      const int bit = fractional_bits + k;
      if (remainder & static_cast<int32_t>(1u << bit))
        result = saturating_rounding_doubling_high_mul(result, kExpMinusPow2[k + 2]);
    }
  }
  if (integer_bits > 5) {  // exp(x) for x < -32 is 0 in Q0.31
    const int32_t minus_32 = -static_cast<int32_t>(1u << (36 - integer_bits));
    if (a < minus_32) result = 0;
  }
  if (a == 0) result = INT32_MAX;  // exp(0) = 1, saturated
  return result;
}

// 1 / (1 + a) for a in [0, 1), a and result in Q0.31: Newton-Raphson division with three
// iterations in Q2.29, starting from 48/17 - 32/17 * (1 + a) / 2.
inline int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  constexpr int32_t kFortyEightOverSeventeen = 1515870810;       // Q2.29
  constexpr int32_t kMinusThirtyTwoOverSeventeen = -1010580540;  // Q2.29
  constexpr int32_t kOneQ2 = 1 << 29;
  const int32_t half_denominator = rounding_half_sum(a, INT32_MAX);  // (1 + a) / 2, Q0.31
  int32_t x = wrapping_add(
      kFortyEightOverSeventeen,
      saturating_rounding_doubling_high_mul(half_denominator, kMinusThirtyTwoOverSeventeen));
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x =
        saturating_rounding_doubling_high_mul(half_denominator, x);
    const int32_t one_minus_half_denominator_times_x =
        wrapping_sub(kOneQ2, half_denominator_times_x);
    x = wrapping_add(
        x, rescale(saturating_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x), 4,
                   2));
  }
  return rescale(x, 1, 0);  // x / 2 read as Q1.30, then to Q0.31
}

// a + b and a - b clamped to the int32 range (TFLite's SaturatingAddNonGemmlowp and
// SaturatingSub, kernels/internal/common.h).
inline int32_t saturating_add(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + static_cast<int64_t>(b);
  return sum > INT32_MAX ? INT32_MAX : (sum < INT32_MIN ? INT32_MIN : static_cast<int32_t>(sum));
}
inline int32_t saturating_sub(int32_t a, int32_t b) {
  const int64_t diff = static_cast<int64_t>(a) - static_cast<int64_t>(b);
  return diff > INT32_MAX ? INT32_MAX : (diff < INT32_MIN ? INT32_MIN : static_cast<int32_t>(diff));
}

// log(x) for a positive x with `input_integer_bits` integer bits (meant for x >= 1), in a
// Q format with `output_integer_bits` integer bits (template arguments: constant shifts) (TFLite's
// log_x_for_x_greater_than_or_equal_to_1, kernels/internal/common.h, which the int8 log
// softmax uses). x = 2^k * r is split with r normalized to [1/2, 1) two ways (as is and
// premultiplied by sqrt(1/2)), keeping the r closer to sqrt(sqrt(1/2)) and its k adjusted by
// a quarter; log(r) comes from a rational approximation in q = 2 (r - sqrt(sqrt(1/2))):
// (q r + alpha_n q^3) / (1 + p (alpha_i + q + alpha_d q^2) + alpha_f q) with
// p = (r + sqrt(sqrt(1/2))) / 2. The sum k log 2 + log(r) is accumulated with one integer
// bit of headroom.
template <int input_integer_bits, int output_integer_bits>
int32_t log_x_for_x_greater_than_or_equal_to_1(int32_t x) {
  // Q0.31 constants: log(2), sqrt(sqrt(1/2)), sqrt(1/2), 1/4 and the approximation's alphas
  // (11/240 * 2^(1/4), 1/20 * 2^(1/4), 2 / 2^(1/4) - 2^(1/4), 1/4 * 2^(1/4)).
  constexpr int32_t kLog2 = 1488522236;
  constexpr int32_t kSqrtSqrtHalf = 1805811301;
  constexpr int32_t kSqrtHalf = 1518500250;
  constexpr int32_t kOneQuarter = 536870912;
  constexpr int32_t kAlphaN = 117049297;
  constexpr int32_t kAlphaD = 127690142;
  constexpr int32_t kAlphaI = 1057819769;
  constexpr int32_t kAlphaF = 638450708;
  constexpr int accum_integer_bits = output_integer_bits + 1;
  const int32_t shifted_quarter = rescale(kOneQuarter, 0, accum_integer_bits);

  // x = 2^(input_integer_bits - headroom_a) * r_a, r_a in [1/2, 1), exponent + 1/4.
  const int headroom_a = count_leading_zeros(static_cast<uint32_t>(x));
  const int32_t r_a = saturating_shift_left(
      saturating_rounding_doubling_high_mul(saturating_shift_left(x, headroom_a - 1), kSqrtHalf),
      1);
  const int32_t exponent_a = saturating_add(
      saturating_shift_left(input_integer_bits - headroom_a, 31 - accum_integer_bits),
      shifted_quarter);
  // The same from x * sqrt(1/2), exponent - 1/4.
  const int32_t x_times_sqrt_half = saturating_rounding_doubling_high_mul(x, kSqrtHalf);
  const int headroom_b = count_leading_zeros(static_cast<uint32_t>(x_times_sqrt_half)) - 1;
  const int32_t r_b = saturating_shift_left(x, headroom_b);
  const int32_t exponent_b = saturating_sub(
      saturating_shift_left(input_integer_bits - headroom_b, 31 - accum_integer_bits),
      shifted_quarter);
  const int32_t r = r_a < r_b ? r_a : r_b;
  const int32_t exponent = exponent_a > exponent_b ? exponent_a : exponent_b;

  const int32_t p = rounding_half_sum(r, kSqrtSqrtHalf);
  const int32_t half_q = wrapping_sub(r, kSqrtSqrtHalf);
  const int32_t q = wrapping_add(half_q, half_q);
  const int32_t q_squared = saturating_rounding_doubling_high_mul(q, q);
  const int32_t numerator =
      wrapping_add(saturating_rounding_doubling_high_mul(q, r),
                   saturating_rounding_doubling_high_mul(
                       saturating_rounding_doubling_high_mul(q, q_squared), kAlphaN));
  const int32_t denominator_minus_one =
      wrapping_add(saturating_rounding_doubling_high_mul(
                       p, wrapping_add(wrapping_add(kAlphaI, q),
                                       saturating_rounding_doubling_high_mul(kAlphaD, q_squared))),
                   saturating_rounding_doubling_high_mul(kAlphaF, q));
  const int32_t reciprocal_denominator = one_over_one_plus_x_for_x_in_0_1(denominator_minus_one);

  const int32_t log_r = saturating_rounding_doubling_high_mul(
      rescale(numerator, 0, accum_integer_bits), reciprocal_denominator);
  return rescale(wrapping_add(saturating_rounding_doubling_high_mul(exponent, kLog2), log_r),
                 accum_integer_bits, output_integer_bits);
}

// Reciprocal of a positive x with x_integer_bits integer bits: returns r in Q0.31 and
// num_bits_over_unit such that 1/x = r * 2^-num_bits_over_unit (TFLite's GetReciprocal).
inline int32_t reciprocal(int32_t x, int x_integer_bits, int* num_bits_over_unit) {
  const int headroom_plus_one = count_leading_zeros(static_cast<uint32_t>(x));
  *num_bits_over_unit = x_integer_bits - headroom_plus_one;
  const uint32_t normalized =
      headroom_plus_one >= 32 ? 0u : static_cast<uint32_t>(x) << headroom_plus_one;
  const int32_t shifted_minus_one = static_cast<int32_t>(normalized - (1u << 31));
  return one_over_one_plus_x_for_x_in_0_1(shifted_minus_one);
}

}  // namespace tinyforge::fixed
