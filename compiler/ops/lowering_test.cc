// Lowering of Mul, Logistic, Tanh, Clamp, Concatenation, Transpose and Pad: int8 constants
// derived by hand from TFLite's Prepare() formulas (see each case), params of the float
// forms, and refusals that name the node.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ops/clamp.h"
#include "ops/concatenation.h"
#include "ops/mul.h"
#include "ops/pad.h"
#include "ops/transpose.h"
#include "plan/lower.h"
#include "tinyforge/kernel.h"

namespace tinyforge::plan {
namespace {

ir::Tensor tensor(DType type, std::vector<int32_t> shape, float scale = 0.0f, int32_t zp = 0) {
  ir::Tensor t;
  t.name = "t";
  t.type = type;
  t.shape = std::move(shape);
  if (scale != 0.0f) {
    t.quant.scale = {scale};
    t.quant.zero_point = {zp};
  }
  return t;
}

ir::Graph one_op(OpCode op, std::vector<ir::Tensor> inputs, ir::Tensor output,
                 ir::Params params = {}) {
  ir::Graph g;
  ir::Node n;
  n.op = op;
  n.name = "node";
  n.params = std::move(params);
  for (auto& t : inputs) n.inputs.push_back(g.add_tensor(t));
  n.outputs.push_back(g.add_tensor(output));
  g.nodes.push_back(n);
  return g;
}

std::string refusal(ir::Graph g) {
  try {
    lower_node(g, 0);
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

TEST(LowerOnnxOps, MulInt8MultiplierAndFusedRelu) {
  // 0.5 * 0.25 / 0.0625 = 2.0 = 2^30 * 2^(2-31); relu on zp -10 -> act_min = -10.
  const ops::MulAttrs a{ir::Activation::relu};
  ir::Graph g =
      one_op(OpCode::Mul, {tensor(DType::i8, {1, 4}, 0.5f, 3), tensor(DType::i8, {4}, 0.25f, -2)},
             tensor(DType::i8, {1, 4}, 0.0625f, -10), a);
  const auto p = params_of<MulParams>(lower_node(g, 0));
  EXPECT_EQ(p.input1_offset, -3);
  EXPECT_EQ(p.input2_offset, 2);
  EXPECT_EQ(p.output_offset, -10);
  EXPECT_EQ(p.output_multiplier, 1 << 30);
  EXPECT_EQ(p.output_shift, 2);
  EXPECT_EQ(p.act_min, -10);
  EXPECT_EQ(p.act_max, 127);
}

TEST(LowerOnnxOps, ClampBoundsInOutputUnits) {
  ops::ClampAttrs a{0.0f, 6.0f};
  // out scale 0.05 zp -128: 0 -> -128, 6 / 0.05 = 120 -> -8; in/out = 0.1/0.05 = 2.0.
  ir::Graph g = one_op(OpCode::Clamp, {tensor(DType::i8, {8}, 0.1f, -10)},
                       tensor(DType::i8, {8}, 0.05f, -128), a);
  const auto p = params_of<ClampParams>(lower_node(g, 0));
  EXPECT_EQ(p.act_min, -128);
  EXPECT_EQ(p.act_max, -8);
  EXPECT_EQ(p.input_offset, 10);
  EXPECT_EQ(p.output_multiplier, 1 << 30);
  EXPECT_EQ(p.output_shift, 2);
  EXPECT_EQ(p.f_min, 0.0f);
  EXPECT_EQ(p.f_max, 6.0f);
  a.min = 7.0f;  // empty range
  EXPECT_NE(refusal(one_op(OpCode::Clamp, {tensor(DType::f32, {8})}, tensor(DType::f32, {8}), a))
                .find("empty"),
            std::string::npos);
}

TEST(LowerOnnxOps, LogisticAndTanhInt8FollowTflmPrepare) {
  // input scale 1/16: 2^-4 * 2^27 = 0.5 * 2^24 -> multiplier 2^30, shift 24,
  // radius floor(15 * 2^27 / 2^24) = 120.
  ir::Graph g = one_op(OpCode::Logistic, {tensor(DType::i8, {4}, 1.0f / 16, 3)},
                       tensor(DType::i8, {4}, 1.0f / 256, -128));
  const auto p = params_of<LogisticParams>(lower_node(g, 0));
  EXPECT_EQ(p.input_zero_point, 3);
  EXPECT_EQ(p.input_multiplier, 1 << 30);
  EXPECT_EQ(p.input_left_shift, 24);
  EXPECT_EQ(p.input_range_radius, 120);
  // input scale 0.1f = 0.100000001490116: * 2^27 = 0.8000000119 * 2^24 ->
  // round(0.8000000119 * 2^31) = round(1717986943.6) = 1717986944.
  ir::Graph t = one_op(OpCode::Tanh, {tensor(DType::i8, {4}, 0.1f, 0)},
                       tensor(DType::i8, {4}, 1.0f / 128, 0));
  const auto q = params_of<TanhParams>(lower_node(t, 0));
  EXPECT_EQ(q.input_left_shift, 24);
  EXPECT_EQ(q.input_multiplier, 1717986944);
  EXPECT_EQ(q.input_range_radius, 120);
  const std::string msg = refusal(one_op(OpCode::Tanh, {tensor(DType::i8, {4}, 0.1f, 0)},
                                         tensor(DType::i8, {4}, 1.0f / 256, -128)));
  EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node"), std::string::npos) << msg;
}

TEST(LowerOnnxOps, DataMovementParamsAndRefusals) {
  const ops::ConcatenationAttrs a{1};
  ir::Graph c =
      one_op(OpCode::Concatenation, {tensor(DType::f32, {2, 3}), tensor(DType::f32, {2, 1})},
             tensor(DType::f32, {2, 4}), a);
  EXPECT_EQ(params_of<ConcatenationParams>(lower_node(c, 0)).axis, 1);
  ir::Graph ci = one_op(OpCode::Concatenation,
                        {tensor(DType::i8, {2, 3}, 0.5f, 0), tensor(DType::i8, {2, 1}, 0.25f, 0)},
                        tensor(DType::i8, {2, 4}, 0.5f, 0), a);
  EXPECT_NE(refusal(ci).find("quantized differently"), std::string::npos);

  ops::TransposeAttrs tp{{0, 2, 1}};
  ir::Graph t =
      one_op(OpCode::Transpose, {tensor(DType::f32, {1, 2, 3})}, tensor(DType::f32, {1, 3, 2}), tp);
  const auto p = params_of<TransposeParams>(lower_node(t, 0));
  EXPECT_EQ(std::vector<int32_t>(p.perm, p.perm + 4), (std::vector<int32_t>{0, 2, 1, 3}));
  tp.perm = {0, 1, 2};
  EXPECT_NE(refusal(one_op(OpCode::Transpose, {tensor(DType::f32, {1, 2, 3})},
                           tensor(DType::f32, {1, 3, 2}), tp)),
            "");

  const ops::PadAttrs pa{{0, 1, 2, 0}, 1.0f};  // rank 2: before {0,1}, after {2,0}
  // int8 pad value: round(1.0 / 0.25) + 5 = 9
  ir::Graph pd = one_op(OpCode::Pad, {tensor(DType::i8, {2, 2}, 0.25f, 5)},
                        tensor(DType::i8, {4, 3}, 0.25f, 5), pa);
  const auto pp = params_of<PadParams>(lower_node(pd, 0));
  EXPECT_EQ(pp.before[1], 1);
  EXPECT_EQ(pp.after[0], 2);
  EXPECT_EQ(pp.q_value, 9);
  EXPECT_NE(
      refusal(one_op(OpCode::Pad, {tensor(DType::f32, {2, 2})}, tensor(DType::f32, {4, 4}), pa)),
      "");
}

}  // namespace
}  // namespace tinyforge::plan
