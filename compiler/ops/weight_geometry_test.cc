// The weighted ops' geometry hooks: each layer read as a grouped convolution, with the
// padding of TFLite's rule and the weight order of the op's filter layout.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "ops/conv.h"
#include "ops/host_op.h"
#include "tinyforge/ops.h"

namespace tinyforge::ops {
namespace {

struct Layer {
  ir::Graph g;
  int tensor(std::vector<int32_t> shape, bool constant = false) {
    ir::Tensor t;
    t.name = "t" + std::to_string(g.tensors.size());
    t.type = DType::f32;
    t.shape = std::move(shape);
    t.constant = constant;
    if (constant) t.data.assign(static_cast<size_t>(t.bytes()), 0);
    return g.add_tensor(std::move(t));
  }
  ir::WeightGeometry geometry(OpCode op, std::vector<int32_t> in, std::vector<int32_t> filter,
                              std::vector<int32_t> out, ir::Params params = {}) {
    const int i = tensor(std::move(in)), f = tensor(std::move(filter), true);
    const int o = tensor(std::move(out));
    g.nodes.push_back(ir::Node{op, {i, f}, {o}, std::move(params), "layer"});
    return host_op(op).weight_geometry(g, g.nodes.size() - 1);
  }
};

ConvAttrs same_stride_2() {
  ConvAttrs a;
  a.window.stride_h = a.window.stride_w = 2;
  a.window.padding = ir::Padding::same;
  return a;
}

TEST(WeightGeometry, GroupedConvSamePadding) {
  // 6 input channels in 2 groups of 3, 4 outputs (2 per group); 5x5, 3x3 SAME stride 2:
  // out 3x3, total padding (3-1)*2 + 3 - 5 = 2, so 1 before.
  const ir::WeightGeometry w =
      Layer{}.geometry(OpCode::Conv2D, {1, 5, 5, 6}, {4, 3, 3, 3}, {1, 3, 3, 4}, same_stride_2());
  EXPECT_EQ(w.groups, 2);
  EXPECT_EQ(w.group_in, 3);
  EXPECT_EQ(w.out_per_group(), 2);
  EXPECT_EQ(w.patch(), 27);
  EXPECT_EQ(w.oh, 3);
  EXPECT_EQ(w.pad_top, 1);
  EXPECT_EQ(w.pad_left, 1);
  EXPECT_EQ(w.positions(), 9);
  // Filter [OC][KH][KW][IC/groups]: output 3's tap (2,1), channel 2 of group 1 = input 5.
  const int32_t e = (2 * 3 + 1) * 3 + 2;
  EXPECT_EQ(w.weight_index(3, e), 3 * 27 + e);
  EXPECT_EQ(w.input_channel(3, e), 5);
  EXPECT_EQ(w.input_channel(1, e), 2);
}

TEST(WeightGeometry, DepthwiseWithMultiplier) {
  ConvAttrs a;
  a.depth_multiplier = 2;
  // 3 channels x multiplier 2; filter [1, 2, 2, 6] valid: out 3x3 on 4x4.
  const ir::WeightGeometry w =
      Layer{}.geometry(OpCode::DepthwiseConv2D, {1, 4, 4, 3}, {1, 2, 2, 6}, {1, 3, 3, 6}, a);
  EXPECT_EQ(w.groups, 3);
  EXPECT_EQ(w.group_in, 1);
  EXPECT_EQ(w.out_per_group(), 2);
  EXPECT_TRUE(w.out_channel_fastest);
  // Filter [1][KH][KW][OC]: output 5 (input 2's second) at tap 3 is element 3 * 6 + 5.
  EXPECT_EQ(w.weight_index(5, 3), 23);
  EXPECT_EQ(w.input_channel(5, 3), 2);
  EXPECT_EQ(w.input_channel(4, 0), 2);
  EXPECT_EQ(w.input_channel(1, 0), 0);
}

TEST(WeightGeometry, FullyConnectedIsOneByOneOverRows) {
  const ir::WeightGeometry w = Layer{}.geometry(OpCode::FullyConnected, {2, 3, 4}, {5, 4}, {6, 5});
  EXPECT_EQ(w.positions(), 6);  // 2 * 3 rows of 4
  EXPECT_EQ(w.c, 4);
  EXPECT_EQ(w.patch(), 4);
  EXPECT_EQ(w.weight_index(2, 3), 11);
  EXPECT_EQ(w.input_channel(2, 3), 3);
}

TEST(WeightGeometry, RefusesAFilterThatDoesNotDivideTheInput) {
  EXPECT_ERROR(
      Layer{}.geometry(OpCode::Conv2D, {1, 5, 5, 6}, {4, 3, 3, 4}, {1, 3, 3, 4}, same_stride_2()),
      tinyforge::Error, "does not divide the input's 6 channels");
  EXPECT_ERROR(Layer{}.geometry(OpCode::FullyConnected, {1, 7}, {5, 4}, {1, 5}), tinyforge::Error,
               "are not rows of 4");
}

TEST(WeightGeometry, OnlyWeightedOpsHaveOne) {
  EXPECT_NE(host_op(OpCode::Conv2D).weight_geometry, nullptr);
  EXPECT_EQ(host_op(OpCode::Add).weight_geometry, nullptr);
  for (uint16_t i = 0; i < kNumOps; ++i) {
    const auto op = static_cast<OpCode>(i);
    if (traits(op).quant == ir::QuantRule::not_quantized) continue;  // kernel variants
    // A transposed convolution is no gather over input patches (an output meets a number of
    // taps that varies with its position), so it has no geometry: bias correction leaves its
    // bias as it is and the pruners' refit refuses it (its channels block pruning).
    if (op == OpCode::TransposeConv) {
      EXPECT_EQ(host_op(op).weight_geometry, nullptr);
      continue;
    }
    EXPECT_EQ(has_weights(op), host_op(op).weight_geometry != nullptr)
        << op_info(op).name << ": an op with weights needs a geometry for bias correction";
  }
}

}  // namespace
}  // namespace tinyforge::ops
