// gemmlowp's fixed-point arithmetic (fixedpoint/fixedpoint.h) and TFLite's
// MultiplyByQuantizedMultiplier (kernels/internal/common.h, double rounding), re-derived for
// the tests that check the int8 kernels bit for bit against TFLite's definition
// (logistic_tanh_int8_exact_test.cc, log_softmax_exact_test.cc), independently of the
// runtime's kernels/reference/fixed_point.h: FixedPoint<int32_t, I> as Fx<I>,
// SaturatingRoundingDoublingHighMul, RoundingDivideByPOT, SaturatingRoundingMultiplyByPOT,
// Rescale, RoundingHalfSum, exp_on_negative_values and one_over_one_plus_x_for_x_in_0_1.
// gemmlowp's constants are checked against the real numbers they stand for
// (GEMMLOWP_CHECKED_FIXEDPOINT_CONSTANT), so here they are computed from those numbers.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace tinyforge::gemmlowp_reference {

// ---- gemmlowp scalar primitives (int32) -----------------------------------------------

inline int32_t srdhm(int32_t a, int32_t b) {  // SaturatingRoundingDoublingHighMul
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = int64_t{a} * int64_t{b};
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

inline int32_t rdbpot(int32_t x, int exponent) {  // RoundingDivideByPOT
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

inline int32_t srmbpot(int32_t x, int exponent) {  // SaturatingRoundingMultiplyByPOT
  if (exponent < 0) return rdbpot(x, -exponent);
  if (exponent == 0) return x;
  const int64_t threshold = (int64_t{1} << (31 - exponent)) - 1;
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(int64_t{x} * (int64_t{1} << exponent));
}

// Two's complement add/sub: gemmlowp's raw + and - on int32 (never overflowing for the
// values the reference produces; wrapping keeps the test free of undefined behaviour).
inline int32_t add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}

// ---- FixedPoint<int32_t, I> -------------------------------------------------------------

template <int I>
struct Fx {
  static constexpr int kFractionalBits = 31 - I;
  int32_t raw;
  static Fx from_raw(int32_t r) { return Fx{r}; }
  // A real constant, rounded to nearest (what the checked-constant macro verifies).
  static Fx constant(double v) {
    return Fx{static_cast<int32_t>(std::llround(std::ldexp(v, kFractionalBits)))};
  }
  static Fx one() {
    return Fx{I == 0 ? std::numeric_limits<int32_t>::max() : int32_t{1} << kFractionalBits};
  }
  template <int E>
  static Fx constant_pot() {
    return Fx{int32_t{1} << (kFractionalBits + E)};
  }
};
template <int I>
Fx<I> operator+(Fx<I> a, Fx<I> b) {
  return {add(a.raw, b.raw)};
}
template <int I>
Fx<I> operator-(Fx<I> a, Fx<I> b) {
  return {sub(a.raw, b.raw)};
}
template <int I>
Fx<I> operator-(Fx<I> a) {
  return {sub(0, a.raw)};
}
template <int A, int B>
Fx<A + B> operator*(Fx<A> a, Fx<B> b) {
  return {srdhm(a.raw, b.raw)};
}
template <int Dst, int Src>
Fx<Dst> rescale(Fx<Src> x) {
  return {srmbpot(x.raw, Src - Dst)};
}
template <int E, int I>
Fx<I + E> exact_mul_by_pot(Fx<I> x) {
  return {x.raw};
}

inline Fx<0> rounding_half_sum(Fx<0> a, Fx<0> b) {
  const int64_t sum = int64_t{a.raw} + int64_t{b.raw};
  return {static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2)};
}

inline Fx<0> exp_on_interval_between_negative_one_quarter_and_0_excl(Fx<0> a) {
  const Fx<0> constant_term = Fx<0>::constant(std::exp(-1.0 / 8.0));
  const Fx<0> one_third = Fx<0>::constant(1.0 / 3.0);
  const Fx<0> x = a + Fx<0>::constant_pot<-3>();
  const Fx<0> x2 = x * x;
  const Fx<0> x3 = x2 * x;
  const Fx<0> x4 = x2 * x2;
  const Fx<0> x4_over_4{srmbpot(x4.raw, -2)};
  const Fx<0> poly{srmbpot((((x4_over_4 + x3) * one_third) + x2).raw, -1)};
  return constant_term + constant_term * (x + poly);
}

template <int I>
inline Fx<0> exp_on_negative_values(Fx<I> a) {
  const Fx<I> one_quarter = Fx<I>::template constant_pot<-2>();
  const Fx<I> mask = one_quarter - Fx<I>::from_raw(1);
  const Fx<I> a_mod_quarter_minus_one_quarter = Fx<I>{a.raw & mask.raw} - one_quarter;
  Fx<0> result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      rescale<0>(a_mod_quarter_minus_one_quarter));
  const int32_t remainder = (a_mod_quarter_minus_one_quarter - a).raw;
  for (int e = -2; e <= 4; ++e) {  // the barrel shifter: exp(-2^e) for each set bit
    if (I > e && (remainder & (int32_t{1} << (Fx<I>::kFractionalBits + e))) != 0)
      result = result * Fx<0>::constant(std::exp(-std::ldexp(1.0, e)));
  }
  if constexpr (I > 5) {  // below -32
    if (a.raw < -(int32_t{1} << (36 - I))) result = Fx<0>{0};
  }
  if (a.raw == 0) result = Fx<0>::one();
  return result;
}

inline Fx<0> one_over_one_plus_x_for_x_in_0_1(Fx<0> a) {
  const Fx<0> half_denominator = rounding_half_sum(a, Fx<0>::one());
  const Fx<2> c48_17 = Fx<2>::constant(48.0 / 17.0), c_neg32_17 = Fx<2>::constant(-32.0 / 17.0);
  Fx<2> x = c48_17 + half_denominator * c_neg32_17;
  for (int i = 0; i < 3; ++i) {
    const Fx<2> half_denominator_times_x = half_denominator * x;
    const Fx<2> one_minus = Fx<2>::one() - half_denominator_times_x;
    x = x + rescale<2>(x * one_minus);
  }
  return rescale<0>(exact_mul_by_pot<-1>(x));
}

// TFLite's MultiplyByQuantizedMultiplier: x * 2^max(shift, 0), the rounding high mul, then a
// rounding right shift by max(-shift, 0).
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm(static_cast<int32_t>(int64_t{x} * (int64_t{1} << left)), multiplier), right);
}

}  // namespace tinyforge::gemmlowp_reference
