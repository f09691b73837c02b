// Bias correction subtracts (rounded - float weights) . E[x] per output channel.
#include "quantize/bias_correction.h"

#include <gtest/gtest.h>

#include <cstring>

#include "quantize/quant_params.h"

namespace tinyforge::quantize {
namespace {

ir::Tensor constant(std::vector<int32_t> shape, const std::vector<float>& v,
                    const std::string& name) {
  ir::Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.constant = true;
  t.data.resize(v.size() * 4);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

// The geometries the ops' host files give these layers (weight_geometry_test.cc checks them).
ir::WeightGeometry fully_connected(int32_t out, int32_t in) {
  ir::WeightGeometry g;
  g.out_channels = out;
  g.c = g.group_in = in;
  return g;
}

ir::WeightGeometry depthwise(int32_t channels, int32_t taps) {  // multiplier 1, 1 x taps
  ir::WeightGeometry g;
  g.c = g.groups = g.out_channels = channels;
  g.kw = taps;
  g.out_channel_fastest = true;
  return g;
}

ir::WeightGeometry grouped_1x1(int32_t channels, int32_t groups) {
  ir::WeightGeometry g;
  g.c = g.out_channels = channels;
  g.groups = groups;
  g.group_in = channels / groups;
  return g;
}

double rounded(const ir::Tensor& wq, int64_t i, size_t channel) {
  return static_cast<double>(wq.quant.scale[channel]) * wq.at<int8_t>(i);
}

TEST(BiasCorrection, FullyConnectedShiftIsWeightErrorTimesInputMean) {
  const ir::Tensor w = constant({2, 2}, {0.3f, 1.0f, -0.7f, 0.45f}, "w");
  const ir::Tensor b = constant({2}, {0.5f, -0.25f}, "b");
  const ir::Tensor wq = quantize_weights(w, 0, {per_tensor_scale(weight_scales(w, 0))});
  const std::vector<double> means{2.0, -3.0};
  const ir::Tensor c = corrected_bias(fully_connected(2, 2), w, wq, &b, means);
  for (int oc = 0; oc < 2; ++oc) {
    double shift = 0;
    for (int k = 0; k < 2; ++k)
      shift += (rounded(wq, oc * 2 + k, 0) - w.at<float>(oc * 2 + k)) * means[k];
    EXPECT_NEAR(c.at<float>(oc), b.at<float>(oc) - shift, 1e-7) << oc;
    EXPECT_NE(shift, 0.0);
  }
}

TEST(BiasCorrection, DepthwiseUsesEachChannelsOwnMean) {
  // [1, 1, 2, 2]: two taps for each of two channels; channel 1's input mean is 0.
  const ir::Tensor w = constant({1, 1, 2, 2}, {0.33f, 0.9f, -0.51f, 0.123f}, "dw");
  const ir::Tensor wq = quantize_weights(w, 3, weight_scales(w, 3));
  const ir::Tensor c = corrected_bias(depthwise(2, 2), w, wq, nullptr, {1.5, 0.0});
  EXPECT_EQ(c.name, "dw/bias");
  const double shift0 =
      (rounded(wq, 0, 0) - 0.33f) * 1.5 + (rounded(wq, 2, 0) - w.at<float>(2)) * 1.5;
  EXPECT_NEAR(c.at<float>(0), -shift0, 1e-7);
  EXPECT_EQ(c.at<float>(1), 0.0f);  // zero mean: nothing to correct
}

TEST(BiasCorrection, GroupedConvReadsItsGroupsChannels) {
  // 2 groups, 1 input channel each, 1x1 filters: output c reads input channel c.
  const ir::Tensor w = constant({2, 1, 1, 1}, {0.3f, 0.3f}, "g");
  ir::Tensor wq = quantize_weights(w, 0, {0.7f / 127, 0.7f / 127});  // both round 0.3 the same way
  const ir::Tensor c = corrected_bias(grouped_1x1(2, 2), w, wq, nullptr, {1.0, 10.0});
  EXPECT_NEAR(c.at<float>(1), 10.0 * c.at<float>(0), 1e-6);
}

TEST(BiasCorrection, MeansOfTheWrongSizeLeaveTheBias) {
  const ir::Tensor w = constant({1, 2}, {0.3f, 1.0f}, "w");
  const ir::Tensor b = constant({1}, {0.5f}, "b");
  const ir::Tensor wq = quantize_weights(w, 0, weight_scales(w, 0));
  EXPECT_EQ(corrected_bias(fully_connected(1, 2), w, wq, &b, {1.0}).at<float>(0), 0.5f);
}

}  // namespace
}  // namespace tinyforge::quantize
