// Quantization parameters and quantized constants follow TFLite's conventions.
#include "quantize/quant_params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "expect_error.h"

namespace tinyforge::quantize {
namespace {

ir::Tensor float_constant(std::vector<int32_t> shape, const std::vector<float>& values) {
  ir::Tensor t;
  t.name = "c";
  t.shape = std::move(shape);
  t.constant = true;
  t.data.resize(values.size() * 4);
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

TEST(QuantParams, ActivationRangeIncludesZeroAndZeroIsExact) {
  const ir::Quant q = activation_params({0.5f, 3.0f});  // widened to [0, 3]
  ASSERT_EQ(q.scale.size(), 1u);
  EXPECT_FLOAT_EQ(q.scale[0], 3.0f / 255);
  EXPECT_EQ(q.zero_point[0], -128);
  const ir::Quant mixed = activation_params({-1.0f, 3.0f});
  EXPECT_FLOAT_EQ(mixed.scale[0], 4.0f / 255);
  // real 0 maps to an integer: -128 + 1 / scale = -64.25 is nudged to -64.
  EXPECT_EQ(mixed.zero_point[0], -64);
  EXPECT_EQ(quantize_value(0.0f, mixed.scale[0], mixed.zero_point[0]), mixed.zero_point[0]);
  const ir::Quant neg = activation_params({-4.0f, -1.0f});  // widened to [-4, 0]
  EXPECT_EQ(neg.zero_point[0], 127);
}

TEST(QuantParams, DegenerateRangeGetsAUsableScale) {
  const ir::Quant q = activation_params({0.0f, 0.0f});
  EXPECT_GT(q.scale[0], 0.0f);
  EXPECT_EQ(quantize_value(0.0f, q.scale[0], q.zero_point[0]), q.zero_point[0]);
}

TEST(QuantParams, ValuesSaturate) {
  EXPECT_EQ(quantize_value(1000.0f, 0.1f, 0), 127);
  EXPECT_EQ(quantize_value(-1000.0f, 0.1f, 0), -128);
  EXPECT_EQ(quantize_value(0.25f, 0.1f, 3), 6);  // round(2.5) = 3, away from zero
}

TEST(QuantParams, WeightsArePerChannelSymmetric) {
  // [2 channels, 3]: channel 0 max |w| = 2, channel 1 max |w| = 0.5.
  const ir::Tensor w = float_constant({2, 3}, {1.2f, -2.0f, 0.5f, 0.2f, 0.5f, -0.125f});
  const std::vector<float> scales = weight_scales(w, 0);
  ASSERT_EQ(scales.size(), 2u);
  EXPECT_FLOAT_EQ(scales[0], 2.0f / 127);
  EXPECT_FLOAT_EQ(scales[1], 0.5f / 127);
  const ir::Tensor q = quantize_weights(w, 0, scales);
  EXPECT_EQ(q.type, DType::i8);
  EXPECT_EQ(q.quant.axis, 0);
  EXPECT_EQ(q.quant.zero_point, (std::vector<int32_t>{0, 0}));
  const std::vector<int8_t> expected{76, -127, 32, 51, 127, -32};  // 76.2, 31.75, 50.8
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(static_cast<int8_t>(q.data[i]), expected[i]) << i;
}

TEST(QuantParams, DepthwiseWeightsQuantizeAlongTheLastAxis) {
  const ir::Tensor w = float_constant({1, 2, 1, 2}, {1.0f, 4.0f, -0.5f, 2.0f});  // channels last
  const std::vector<float> scales = weight_scales(w, 3);
  EXPECT_FLOAT_EQ(scales[0], 1.0f / 127);
  EXPECT_FLOAT_EQ(scales[1], 4.0f / 127);
}

TEST(QuantParams, BiasScaleIsInputTimesWeightScale) {
  const ir::Tensor b = float_constant({2}, {0.5f, -1.0f});
  const std::vector<float> scales{0.01f, 0.02f};
  const ir::Tensor q = quantize_bias(b, 0.1f, scales);
  EXPECT_EQ(q.type, DType::i32);
  ASSERT_EQ(q.quant.scale.size(), 2u);
  EXPECT_FLOAT_EQ(q.quant.scale[0], 0.1f * 0.01f);
  int32_t v[2];
  std::memcpy(v, q.data.data(), 8);
  EXPECT_EQ(v[0], 500);
  EXPECT_EQ(v[1], -500);
}

TEST(QuantParams, HugeBiasRaisesTheWeightScaleInsteadOfOverflowing) {
  const ir::Tensor b = float_constant({1}, {1.0e6f});
  std::vector<float> scales{1e-6f};
  fit_bias_range(&b, 1e-3f, scales);  // 1e6 / (1e-3 * 1e-6) would need 1e15
  EXPECT_GT(scales[0], 1e-6f);
  const ir::Tensor q = quantize_bias(b, 1e-3f, scales);
  int32_t v;
  std::memcpy(&v, q.data.data(), 4);
  EXPECT_LT(v, 2147483647);
  EXPECT_NEAR(static_cast<double>(v) * static_cast<double>(q.quant.scale[0]), 1.0e6, 1.0);
}

TEST(QuantParams, RefusesNonFloatWeights) {
  ir::Tensor w = float_constant({1}, {1.0f});
  w.type = DType::i32;
  EXPECT_ERROR(weight_scales(w, 0), tinyforge::Error, "is not a float32 constant");
  EXPECT_ERROR(weight_scales(float_constant({2}, {1, 2}), 1), tinyforge::Error,
               "has rank 1; cannot quantize along axis 1");  // axis past rank
}

}  // namespace
}  // namespace tinyforge::quantize
