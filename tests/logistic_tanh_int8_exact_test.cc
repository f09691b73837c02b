// int8 LOGISTIC and TANH bit for bit against TFLite's reference integer arithmetic,
// re-derived here from its published definition (not from our kernel's helpers), on every
// int8 input for several input quantizations. The definition followed:
//  - tensorflow/lite/kernels/internal/reference/integer_ops/logistic.h (Logistic): saturate
//    to -128 / 127 at +-input_range_radius, else MultiplyByQuantizedMultiplier into Q4.27,
//    gemmlowp::logistic to Q0.31, RoundingDivideByPOT(., 31 - 8), + (-128), clamp;
//  - tensorflow/lite/kernels/internal/common.h (MultiplyByQuantizedMultiplier);
//  - gemmlowp fixedpoint/fixedpoint.h: its primitives, exp_on_negative_values and
//    one_over_one_plus_x_for_x_in_0_1 from gemmlowp_reference.h, logistic here;
//  - tensorflow/lite/kernels/internal/reference/integer_ops/tanh.h (Tanh): the same walk
//    with gemmlowp::tanh (one_minus_x_over_one_plus_x_for_x_in_0_1 of
//    exp_on_negative_values(ExactMulByPot<1>(-|a|)), sign restored, 0 at 0), then
//    RoundingDivideByPOT(., 31 - 7) and a clamp, output zero point 0;
//  - tflite-micro kernels/logistic_common.cc and tanh_common.cc (the int8 params from the
//    input scale, the same formula for both).
// A 1-LSB tolerance would hide a truncating output stage (about 100 of 256 outputs move).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gemmlowp_reference.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

using namespace gemmlowp_reference;

Fx<0> one_minus_x_over_one_plus_x_for_x_in_0_1(Fx<0> a) {
  const Fx<0> half_denominator = rounding_half_sum(a, Fx<0>::one());
  const Fx<2> c48_17 = Fx<2>::constant(48.0 / 17.0), c_neg32_17 = Fx<2>::constant(-32.0 / 17.0);
  Fx<2> x = c48_17 + half_denominator * c_neg32_17;
  for (int i = 0; i < 3; ++i) {
    const Fx<2> one_minus = Fx<2>::one() - half_denominator * x;
    x = x + rescale<2>(x * one_minus);
  }
  return rescale<0>(x - Fx<2>::one());
}

Fx<0> tanh(Fx<4> a) {
  if (a.raw == 0) return Fx<0>{0};
  const Fx<4> negative = a.raw < 0 ? a : -a;
  const Fx<0> t = one_minus_x_over_one_plus_x_for_x_in_0_1(
      exp_on_negative_values(exact_mul_by_pot<1>(negative)));
  return a.raw < 0 ? -t : t;
}

Fx<0> logistic(Fx<4> a) {
  if (a.raw == 0) return Fx<0>::constant(0.5);
  const Fx<4> abs = a.raw > 0 ? a : -a;
  const Fx<0> if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-abs));
  return a.raw > 0 ? if_positive : Fx<0>::one() - if_positive;
}

// ---- TFLite's int8 Logistic -----------------------------------------------------------

int8_t reference_logistic(int8_t in, const LogisticParams& p) {
  const int32_t x = int32_t{in} - p.input_zero_point;
  if (x <= -p.input_range_radius) return -128;
  if (x >= p.input_range_radius) return 127;
  const int32_t q4 = multiply_by_quantized_multiplier(x, p.input_multiplier, p.input_left_shift);
  const int32_t q = rdbpot(logistic(Fx<4>{q4}).raw, 31 - 8) - 128;
  return static_cast<int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
}

int8_t reference_tanh(int8_t in, const TanhParams& p) {
  const int32_t x = int32_t{in} - p.input_zero_point;
  if (x <= -p.input_range_radius) return -128;
  if (x >= p.input_range_radius) return 127;
  const int32_t q4 = multiply_by_quantized_multiplier(x, p.input_multiplier, p.input_left_shift);
  const int32_t q = rdbpot(tanh(Fx<4>{q4}).raw, 31 - 7);
  return static_cast<int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
}

// tflite-micro's Prepare: input_real = s * 2^27; frexp -> (q, left_shift); multiplier =
// round(q * 2^31); radius = floor(15 * 2^27 / 2^left_shift).
LogisticParams params_for(float scale, int32_t zero_point) {
  LogisticParams p{};
  int shift = 0;
  const double q = std::frexp(static_cast<double>(scale) * std::ldexp(1.0, 27), &shift);
  p.input_zero_point = zero_point;
  p.input_multiplier = static_cast<int32_t>(std::round(q * std::ldexp(1.0, 31)));
  p.input_left_shift = shift;
  p.input_range_radius = static_cast<int32_t>(std::floor(15.0 * std::ldexp(1.0, 27 - shift)));
  return p;
}

TensorView int8_view(std::vector<int8_t>& data, float scale, int32_t zero_point) {
  TensorView v{};
  v.type = DType::i8;
  v.rank = 1;
  v.dims[0] = static_cast<int32_t>(data.size());
  for (int d = 1; d < kMaxRank; ++d) v.dims[d] = 1;
  v.data = data.data();
  v.bytes = static_cast<uint32_t>(data.size());
  v.scale = scale;
  v.zero_point = zero_point;
  return v;
}

struct Quantization {
  float scale;
  int32_t zero_point;
};

TEST(LogisticInt8, BitExactWithTfliteReferenceOnEveryInput) {
  const Quantization cases[] = {{1.0f / 16, 0},     {0.1f, -3},  {0.03125f, 17}, {0.2f, 0},
                                {0.0078125f, -128}, {0.05f, 60}, {0.37f, -20},   {0.011f, 5}};
  int rounded_up = 0;  // outputs where rounding, not truncation, decided the byte
  for (const Quantization& qz : cases) {
    SCOPED_TRACE(testing::Message()
                 << "input scale " << qz.scale << ", zero point " << qz.zero_point);
    const LogisticParams p = params_for(qz.scale, qz.zero_point);
    std::vector<int8_t> in(256), out(256, 0);
    for (int i = 0; i < 256; ++i) in[i] = static_cast<int8_t>(i - 128);
    const TensorView views[2] = {int8_view(in, qz.scale, qz.zero_point),
                                 int8_view(out, 1.0f / 256, -128)};
    const KernelIO io{&views[0], 1, &views[1], 1, nullptr, 0};
    ASSERT_EQ(check_Logistic(p, io), Status::ok);
    eval_Logistic(p, io);
    for (int i = 0; i < 256; ++i) {
      const int8_t want = reference_logistic(in[i], p);
      EXPECT_EQ(out[i], want) << "input " << int{in[i]};
      // The re-derivation itself is anchored to the real function: within one output LSB.
      const double real =
          1.0 / (1.0 + std::exp(-(in[i] - qz.zero_point) * static_cast<double>(qz.scale)));
      EXPECT_NEAR(want, std::min(127.0, std::round(real * 256) - 128), 1.0)
          << "input " << int{in[i]};
      const int32_t x = int32_t{in[i]} - p.input_zero_point;
      if (x > -p.input_range_radius && x < p.input_range_radius) {
        const int32_t q0 = logistic(Fx<4>{multiply_by_quantized_multiplier(x, p.input_multiplier,
                                                                           p.input_left_shift)})
                               .raw;
        rounded_up += rdbpot(q0, 23) != (q0 >> 23);
      }
    }
  }
  // The cases exercise the rounding: a truncating output stage would differ on these.
  EXPECT_GT(rounded_up, 100);
}

TEST(TanhInt8, BitExactWithTfliteReferenceOnEveryInput) {
  const Quantization cases[] = {{1.0f / 16, 0},     {0.1f, -3},  {0.03125f, 17}, {0.2f, 0},
                                {0.0078125f, -128}, {0.05f, 60}, {0.37f, -20},   {1e-4f, 3}};
  int rounded_up = 0;  // outputs where rounding, not truncation, decided the byte
  for (const Quantization& qz : cases) {
    SCOPED_TRACE(testing::Message()
                 << "input scale " << qz.scale << ", zero point " << qz.zero_point);
    const LogisticParams lp = params_for(qz.scale, qz.zero_point);
    const TanhParams p{lp.input_zero_point, lp.input_range_radius, lp.input_multiplier,
                       lp.input_left_shift};
    std::vector<int8_t> in(256), out(256, 0);
    for (int i = 0; i < 256; ++i) in[i] = static_cast<int8_t>(i - 128);
    const TensorView views[2] = {int8_view(in, qz.scale, qz.zero_point),
                                 int8_view(out, 1.0f / 128, 0)};
    const KernelIO io{&views[0], 1, &views[1], 1, nullptr, 0};
    ASSERT_EQ(check_Tanh(p, io), Status::ok);
    eval_Tanh(p, io);
    for (int i = 0; i < 256; ++i) {
      const int8_t want = reference_tanh(in[i], p);
      EXPECT_EQ(out[i], want) << "input " << int{in[i]};
      // Anchored to the real function: within one output LSB.
      const double real = std::tanh((in[i] - qz.zero_point) * static_cast<double>(qz.scale));
      EXPECT_NEAR(want, std::clamp(std::round(real * 128), -128.0, 127.0), 1.0)
          << "input " << int{in[i]};
      const int32_t x = int32_t{in[i]} - p.input_zero_point;
      if (x > -p.input_range_radius && x < p.input_range_radius) {
        const int32_t q0 =
            tanh(Fx<4>{multiply_by_quantized_multiplier(x, p.input_multiplier, p.input_left_shift)})
                .raw;
        rounded_up += rdbpot(q0, 24) != (q0 >> 24);
      }
    }
  }
  // The cases exercise the rounding: a truncating output stage would differ on these.
  EXPECT_GT(rounded_up, 100);
}

// The saturation edges: exactly at +-radius the reference saturates, one step inside it
// computes (and still lands on the extreme codes for these scales).
TEST(LogisticInt8, SaturatesExactlyAtTheRadius) {
  const LogisticParams p = params_for(1.0f / 16, 0);
  ASSERT_EQ(p.input_range_radius, 120);
  ASSERT_EQ(p.input_multiplier, 1 << 30);
  ASSERT_EQ(p.input_left_shift, 24);
  std::vector<int8_t> in = {-120, -119, 0, 119, 120}, out(in.size());
  const TensorView views[2] = {int8_view(in, 1.0f / 16, 0), int8_view(out, 1.0f / 256, -128)};
  const KernelIO io{&views[0], 1, &views[1], 1, nullptr, 0};
  ASSERT_EQ(check_Logistic(p, io), Status::ok);
  eval_Logistic(p, io);
  for (size_t i = 0; i < in.size(); ++i)
    EXPECT_EQ(out[i], reference_logistic(in[i], p)) << int{in[i]};
  EXPECT_EQ(out[0], -128);
  EXPECT_EQ(out[2], 0);  // sigmoid(0) = 1/2 = 128/256
  EXPECT_EQ(out[4], 127);
}

}  // namespace
}  // namespace tinyforge
