// plan::quantize_multiplier against the definition of TFLite's QuantizeMultiplier
// (tensorflow/lite/kernels/internal/quantization_util.cc): real = q * 2^shift with
// q = frexp fraction rounded to Q31; a fraction that rounds up to 1.0 is renormalized to
// 2^30 with shift + 1; reals too small for a shift >= -31 become 0. Every requantizing
// kernel's bit-exactness rests on these constants.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "plan/quant_math.h"

namespace tinyforge::plan {
namespace {

void expect_multiplier(double real, int32_t multiplier, int32_t shift) {
  const QuantizedMultiplier q = quantize_multiplier(real);
  EXPECT_EQ(q.multiplier, multiplier) << "real " << real;
  EXPECT_EQ(q.shift, shift) << "real " << real;
}

TEST(QuantizeMultiplier, ExactPowersAndFractions) {
  expect_multiplier(0.0, 0, 0);
  expect_multiplier(0.5, 1 << 30, 0);
  expect_multiplier(1.0, 1 << 30, 1);
  expect_multiplier(0.75, 3 << 29, 0);
  expect_multiplier(std::ldexp(1.0, -10), 1 << 30, -9);
  expect_multiplier(3.0, 3 << 29, 2);
}

TEST(QuantizeMultiplier, FractionRoundingUpToOneIsRenormalized) {
  // frexp gives 0.99999999999999989: q * 2^31 rounds to 2^31, which does not fit in int32.
  expect_multiplier(std::nextafter(1.0, 0.0), 1 << 30, 1);
  expect_multiplier(std::nextafter(0.25, 0.0), 1 << 30, -1);
}

TEST(QuantizeMultiplier, TooSmallBecomesZero) {
  expect_multiplier(std::ldexp(1.0, -40), 0, 0);
  expect_multiplier(std::ldexp(0.75, -31), 3 << 29, -31);  // the smallest shift kept
}

TEST(QuantizeMultiplier, RandomRealsRoundTrip) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> exponent(-20.0, 10.0);
  for (int i = 0; i < 10000; ++i) {
    const double real = std::exp2(exponent(rng));
    const QuantizedMultiplier q = quantize_multiplier(real);
    ASSERT_GE(q.multiplier, 1 << 30) << real;
    const double back = std::ldexp(static_cast<double>(q.multiplier), q.shift - 31);
    ASSERT_LE(std::fabs(back - real), std::ldexp(real, -31)) << real;  // within half a Q31 step
  }
}

}  // namespace
}  // namespace tinyforge::plan
