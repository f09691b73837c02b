// Offline constants of Add, Softmax, Quantize, Dequantize and Reshape lowering, checked
// against values derived by hand from TFLite Micro's Prepare() formulas (see each case),
// plus the refusals that must name the node.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ops/add.h"
#include "ops/softmax.h"
#include "plan/lower.h"
#include "tinyforge/kernel.h"

namespace tinyforge::plan {
namespace {

ir::Tensor tensor(const std::string& name, DType type, std::vector<int32_t> shape,
                  float scale = 0.0f, int32_t zp = 0) {
  ir::Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  if (scale != 0.0f) {
    t.quant.scale = {scale};
    t.quant.zero_point = {zp};
  }
  return t;
}

// A graph with one node reading `inputs` and writing `output`.
ir::Graph one_op(OpCode op, std::vector<ir::Tensor> inputs, ir::Tensor output,
                 ir::Params params = {}) {
  ir::Graph g;
  ir::Node n;
  n.op = op;
  n.name = "node";
  n.params = std::move(params);
  for (auto& t : inputs) {
    n.inputs.push_back(g.add_tensor(t));
    g.inputs.push_back(n.inputs.back());
  }
  n.outputs.push_back(g.add_tensor(output));
  g.outputs = n.outputs;
  g.nodes.push_back(n);
  return g;
}

// The real value a (multiplier, shift) pair stands for.
double real_of(int32_t multiplier, int32_t shift) {
  return multiplier * std::ldexp(1.0, shift - 31);
}

template <typename F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

// ---- Add -------------------------------------------------------------------------------

TEST(LowerElementwiseAdd, UnitScalesGiveHandDerivedConstants) {
  // twice_max = 2: inputs 1/2 -> (2^30, 0); output 2 / 2^20 = 2^-19 -> (2^30, -18).
  auto g =
      one_op(OpCode::Add,
             {tensor("a", DType::i8, {1, 4}, 1.0f, 5), tensor("b", DType::i8, {1, 4}, 1.0f, -7)},
             tensor("y", DType::i8, {1, 4}, 1.0f, 3));
  const LoweredOp op = lower_Add(g, 0);
  EXPECT_EQ(op.inputs, (std::vector<int>{0, 1}));
  EXPECT_EQ(op.scratch_size, 0u);
  const auto p = params_of<AddParams>(op);
  EXPECT_EQ(p.left_shift, 20);
  EXPECT_EQ(p.input1_offset, -5);
  EXPECT_EQ(p.input2_offset, 7);
  EXPECT_EQ(p.output_offset, 3);
  EXPECT_EQ(p.input1_multiplier, 1 << 30);
  EXPECT_EQ(p.input1_shift, 0);
  EXPECT_EQ(p.input2_multiplier, 1 << 30);
  EXPECT_EQ(p.input2_shift, 0);
  EXPECT_EQ(p.output_multiplier, 1 << 30);
  EXPECT_EQ(p.output_shift, -18);
  EXPECT_EQ(p.act_min, -128);
  EXPECT_EQ(p.act_max, 127);
}

TEST(LowerElementwiseAdd, MixedScalesAndActivation) {
  // s1 = 0.5, s2 = 0.25 -> twice_max = 1: input multipliers 0.5 (2^30, 0) and 0.25 (2^30, -1).
  // Output scale 0.1, zp -20: 1 / (2^20 * 0.1) = 9.5367e-6; relu6 clamps to
  // [-20, -20 + round(6 / 0.1)] = [-20, 40].
  const ops::AddAttrs relu6{ir::Activation::relu6};
  auto g =
      one_op(OpCode::Add, {tensor("a", DType::i8, {4}, 0.5f), tensor("b", DType::i8, {4}, 0.25f)},
             tensor("y", DType::i8, {4}, 0.1f, -20), relu6);
  const auto p = params_of<AddParams>(lower_Add(g, 0));
  EXPECT_EQ(p.input1_multiplier, 1 << 30);
  EXPECT_EQ(p.input1_shift, 0);
  EXPECT_EQ(p.input2_multiplier, 1 << 30);
  EXPECT_EQ(p.input2_shift, -1);
  const double real_out = 1.0 / (1048576.0 * static_cast<double>(0.1f));
  EXPECT_NEAR(real_of(p.output_multiplier, p.output_shift), real_out, real_out * 1e-9);
  EXPECT_GE(p.output_multiplier, 1 << 30);  // normalized Q31 mantissa
  EXPECT_EQ(p.act_min, -20);
  EXPECT_EQ(p.act_max, 40);
}

TEST(LowerElementwiseAdd, FloatActivationBounds) {
  auto g = one_op(OpCode::Add, {tensor("a", DType::f32, {2, 3}), tensor("b", DType::f32, {3})},
                  tensor("y", DType::f32, {2, 3}));
  auto p = params_of<AddParams>(lower_Add(g, 0));
  // TFLite bounds "no activation" by the finite float extremes.
  EXPECT_EQ(p.f_act_min, std::numeric_limits<float>::lowest());
  EXPECT_EQ(p.f_act_max, std::numeric_limits<float>::max());
  g.nodes[0].params = ops::AddAttrs{ir::Activation::relu_n1_to_1};
  p = params_of<AddParams>(lower_Add(g, 0));
  EXPECT_EQ(p.f_act_min, -1.0f);
  EXPECT_EQ(p.f_act_max, 1.0f);
}

// Every refusal names the node and says what was expected.
void expect_refused(ir::Graph& g, LoweredOp (*lower)(ir::Graph&, size_t), const std::string& what) {
  const std::string msg = refusal([&] { lower(g, 0); });
  EXPECT_NE(msg.find("op 0 ("), std::string::npos) << msg;
  EXPECT_NE(msg.find("'node'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << msg;
}

TEST(LowerElementwiseAdd, Refusals) {
  auto not_broadcast =
      one_op(OpCode::Add, {tensor("a", DType::i8, {2, 3}, 1.0f), tensor("b", DType::i8, {2}, 1.0f)},
             tensor("y", DType::i8, {2, 3}, 1.0f));
  expect_refused(not_broadcast, lower_Add, "not the broadcast");

  auto mixed =
      one_op(OpCode::Add, {tensor("a", DType::i8, {3}, 1.0f), tensor("b", DType::f32, {3})},
             tensor("y", DType::i8, {3}, 1.0f));
  expect_refused(mixed, lower_Add, "expected int8");

  auto unquantized =
      one_op(OpCode::Add, {tensor("a", DType::i8, {3}), tensor("b", DType::i8, {3}, 1.0f)},
             tensor("y", DType::i8, {3}, 1.0f));
  expect_refused(unquantized, lower_Add, "per-tensor quantization");

  ir::Tensor per_channel = tensor("a", DType::i8, {3}, 1.0f);
  per_channel.quant.scale = {1.0f, 2.0f, 3.0f};
  per_channel.quant.zero_point = {0, 0, 0};
  auto pc = one_op(OpCode::Add, {per_channel, tensor("b", DType::i8, {3}, 1.0f)},
                   tensor("y", DType::i8, {3}, 1.0f));
  expect_refused(pc, lower_Add, "per-tensor quantization");

  // 2 * 1 / (2^20 * 1e-7) = 19 >= 1: the reference's QuantizeMultiplierSmallerThanOneExp fails.
  auto tiny_out =
      one_op(OpCode::Add, {tensor("a", DType::i8, {3}, 1.0f), tensor("b", DType::i8, {3}, 1.0f)},
             tensor("y", DType::i8, {3}, 1e-7f));
  expect_refused(tiny_out, lower_Add, "output multiplier");

  auto rank5 =
      one_op(OpCode::Add, {tensor("a", DType::f32, {1, 1, 1, 1, 2}), tensor("b", DType::f32, {2})},
             tensor("y", DType::f32, {1, 1, 1, 1, 2}));
  expect_refused(rank5, lower_Add, "rank 5");

  // int32 has a plain-integer form; uint32 (the signal ops' energies) has none.
  auto ints = one_op(OpCode::Add, {tensor("a", DType::u32, {3}), tensor("b", DType::u32, {3})},
                     tensor("y", DType::u32, {3}));
  expect_refused(ints, lower_Add, "expected float32, int8, int16 or int32");

  auto int16_with_int8 =
      one_op(OpCode::Add, {tensor("a", DType::i16, {3}, 1.0f), tensor("b", DType::i8, {3}, 1.0f)},
             tensor("y", DType::i16, {3}, 1.0f));
  expect_refused(int16_with_int8, lower_Add, "expected int16");
}

// ---- Softmax ---------------------------------------------------------------------------

SoftmaxParams lower_softmax_int8(float input_scale, float beta) {
  auto g = one_op(OpCode::Softmax, {tensor("x", DType::i8, {1, 10}, input_scale, 3)},
                  tensor("y", DType::i8, {1, 10}, 1.0f / 256, -128), ops::SoftmaxAttrs{beta});
  const LoweredOp op = lower_Softmax(g, 0);
  EXPECT_EQ(op.inputs, (std::vector<int>{0}));
  return params_of<SoftmaxParams>(op);
}

TEST(LowerElementwiseSoftmax, HandDerivedScaling) {
  // PreprocessSoftmaxScaling: beta * scale * 2^26. Scale 1/16: 2^22 = 0.5 * 2^23 ->
  // (2^30, 23); CalculateInputRadius: floor(31 * 2^26 / 2^23) = 248.
  SoftmaxParams p = lower_softmax_int8(1.0f / 16, 1.0f);
  EXPECT_EQ(p.input_multiplier, 1 << 30);
  EXPECT_EQ(p.input_left_shift, 23);
  EXPECT_EQ(p.diff_min, -248);
  // Scale 1/2, beta 1: 2^25 -> (2^30, 26), radius floor(31) = 31.
  p = lower_softmax_int8(0.5f, 1.0f);
  EXPECT_EQ(p.input_left_shift, 26);
  EXPECT_EQ(p.diff_min, -31);
  // Scale 0.1, beta 1: 0.1 * 2^26 = 6710886.4 = 0.8 * 2^23 -> shift 23,
  // multiplier round(0.8 * 2^31) (in the float scale's exact value), radius 248.
  p = lower_softmax_int8(0.1f, 1.0f);
  EXPECT_EQ(p.input_left_shift, 23);
  EXPECT_EQ(p.input_multiplier,
            static_cast<int32_t>(
                std::round(static_cast<double>(0.1f) * 67108864.0 / 8388608.0 * 2147483648.0)));
  EXPECT_EQ(p.diff_min, -248);
  // beta * scale = 32: 2^31 is capped at 2^31 - 1 -> (2^31 - 1, 31) in the double-rounding
  // build, radius floor(31 * 2^26 / 2^31) = 0: only the row maxima count.
  p = lower_softmax_int8(32.0f, 1.0f);
  EXPECT_EQ(p.input_multiplier, 2147483647);
  EXPECT_EQ(p.input_left_shift, 31);
  EXPECT_EQ(p.diff_min, 0);
  // beta scales like the input scale.
  const SoftmaxParams a = lower_softmax_int8(0.25f, 2.0f), b = lower_softmax_int8(0.5f, 1.0f);
  EXPECT_EQ(a.input_multiplier, b.input_multiplier);
  EXPECT_EQ(a.input_left_shift, b.input_left_shift);
}

TEST(LowerElementwiseSoftmax, LoweredParamsRunUniformRows) {
  // End to end through the kernel: 5 equal logits give round(256 / 5) - 128 = -77 each.
  const SoftmaxParams p = lower_softmax_int8(0.0390625f, 1.0f);
  std::vector<int8_t> x(5, 42), y(5, 0);
  TensorView in{DType::i8, 2, {1, 5, 1, 1}, x.data(), 5, 0.0390625f, 3};
  TensorView out{DType::i8, 2, {1, 5, 1, 1}, y.data(), 5, 1.0f / 256, -128};
  const KernelIO io{&in, 1, &out, 1, nullptr, 0};
  ASSERT_EQ(check_Softmax(p, io), Status::ok);
  eval_Softmax(p, io);
  EXPECT_EQ(y, std::vector<int8_t>(5, -77));
}

TEST(LowerElementwiseSoftmax, FloatAndRefusals) {
  auto f = one_op(OpCode::Softmax, {tensor("x", DType::f32, {2, 3})},
                  tensor("y", DType::f32, {2, 3}), ops::SoftmaxAttrs{0.5f});
  EXPECT_EQ(params_of<SoftmaxParams>(lower_Softmax(f, 0)).beta, 0.5f);

  auto wrong_out = one_op(OpCode::Softmax, {tensor("x", DType::i8, {4}, 0.1f)},
                          tensor("y", DType::i8, {4}, 1.0f / 128, -128));
  expect_refused(wrong_out, lower_Softmax, "expected 1/256 and -128");
  auto wrong_zp = one_op(OpCode::Softmax, {tensor("x", DType::i8, {4}, 0.1f)},
                         tensor("y", DType::i8, {4}, 1.0f / 256, 0));
  expect_refused(wrong_zp, lower_Softmax, "expected 1/256 and -128");
  // beta * scale * 2^26 <= 1: QuantizeMultiplierGreaterThanOne would fail in the reference.
  auto tiny = one_op(OpCode::Softmax, {tensor("x", DType::i8, {4}, 1e-9f)},
                     tensor("y", DType::i8, {4}, 1.0f / 256, -128));
  expect_refused(tiny, lower_Softmax, "too small");
  auto shape =
      one_op(OpCode::Softmax, {tensor("x", DType::f32, {4})}, tensor("y", DType::f32, {2, 2}));
  expect_refused(shape, lower_Softmax, "must be equal");
  auto types = one_op(OpCode::Softmax, {tensor("x", DType::f32, {4})},
                      tensor("y", DType::i8, {4}, 1.0f / 256, -128));
  expect_refused(types, lower_Softmax, "expected float32");
}

// ---- Reshape, Quantize, Dequantize -----------------------------------------------------

TEST(LowerElementwiseReshape, DropsShapeInputAndChecksCounts) {
  ir::Tensor shape_const = tensor("shape", DType::i32, {2});
  shape_const.constant = true;
  shape_const.data.resize(8);
  auto g = one_op(OpCode::Reshape, {tensor("x", DType::i8, {1, 2, 3}, 0.5f), shape_const},
                  tensor("y", DType::i8, {3, 2}, 0.5f));
  const LoweredOp op = lower_Reshape(g, 0);
  EXPECT_EQ(op.inputs, (std::vector<int>{0}));
  EXPECT_EQ(op.params.size(), sizeof(ReshapeParams));

  auto bad = one_op(OpCode::Reshape, {tensor("x", DType::f32, {6})}, tensor("y", DType::f32, {4}));
  expect_refused(bad, lower_Reshape, "holds 4 elements");
  auto retype =
      one_op(OpCode::Reshape, {tensor("x", DType::f32, {6})}, tensor("y", DType::i8, {6}, 1.0f));
  expect_refused(retype, lower_Reshape, "element type");
}

TEST(LowerElementwiseQuantize, FloatAndRequantizeConstants) {
  auto g = one_op(OpCode::Quantize, {tensor("x", DType::f32, {8})},
                  tensor("y", DType::i8, {8}, 0.02f, -7));
  QuantizeParams p = params_of<QuantizeParams>(lower_Quantize(g, 0));
  EXPECT_EQ(p.scale, 0.02f);
  EXPECT_EQ(p.zero_point, -7);

  // 0.5 / 1.0: (2^30, 0). 3.0 / 0.75 = 4 = 0.5 * 2^3: (2^30, 3).
  auto r = one_op(OpCode::Quantize, {tensor("x", DType::i8, {8}, 0.5f, 10)},
                  tensor("y", DType::i8, {8}, 1.0f, -5));
  p = params_of<QuantizeParams>(lower_Quantize(r, 0));
  EXPECT_EQ(p.input_zero_point, 10);
  EXPECT_EQ(p.zero_point, -5);
  EXPECT_EQ(p.multiplier, 1 << 30);
  EXPECT_EQ(p.shift, 0);
  auto up = one_op(OpCode::Quantize, {tensor("x", DType::i8, {8}, 3.0f)},
                   tensor("y", DType::i8, {8}, 0.75f));
  p = params_of<QuantizeParams>(lower_Quantize(up, 0));
  EXPECT_EQ(p.multiplier, 1 << 30);
  EXPECT_EQ(p.shift, 3);

  auto to_float =
      one_op(OpCode::Quantize, {tensor("x", DType::f32, {8})}, tensor("y", DType::f32, {8}));
  expect_refused(to_float, lower_Quantize, "expected int8");
  auto from_int =
      one_op(OpCode::Quantize, {tensor("x", DType::i32, {8})}, tensor("y", DType::i8, {8}, 1.0f));
  expect_refused(from_int, lower_Quantize, "expected float32, int8 or int16");
}

TEST(LowerElementwiseDequantize, ConstantsAndRefusals) {
  auto g = one_op(OpCode::Dequantize, {tensor("x", DType::i8, {8}, 0.125f, 9)},
                  tensor("y", DType::f32, {8}));
  const auto p = params_of<DequantizeParams>(lower_Dequantize(g, 0));
  EXPECT_EQ(p.scale, 0.125f);
  EXPECT_EQ(p.zero_point, 9);
  auto from_float =
      one_op(OpCode::Dequantize, {tensor("x", DType::f32, {8})}, tensor("y", DType::f32, {8}));
  expect_refused(from_float, lower_Dequantize, "expected int8");
  auto to_int = one_op(OpCode::Dequantize, {tensor("x", DType::i8, {8}, 1.0f)},
                       tensor("y", DType::i8, {8}, 1.0f));
  expect_refused(to_int, lower_Dequantize, "expected float32");
  auto zero_scale =
      one_op(OpCode::Dequantize, {tensor("x", DType::i8, {8}, 1.0f)}, tensor("y", DType::f32, {8}));
  zero_scale.tensors[0].quant.scale = {0.0f};
  expect_refused(zero_scale, lower_Dequantize, "positive finite");
}

}  // namespace
}  // namespace tinyforge::plan
