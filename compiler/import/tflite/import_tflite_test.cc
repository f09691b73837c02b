// TFLite importer tests: small models built in the test (every supported op, every
// attribute the importer maps, each validation rule), then the third-party models in
// ../shared/models against their golden manifests and the anchors' MAC counts.
#include "import/tflite/import_tflite.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "expect_error.h"
#include "io/files.h"
#include "ir/metrics.h"
#include "ops/conv.h"
#include "ops/host_op.h"
#include "ops/pool.h"
#include "ops/softmax.h"
#include "shared_data.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;
using B = tfl::BuiltinOperator;

ir::Graph import_spec(const ModelSpec& spec) {
  const std::vector<uint8_t> bytes = testing::build_tflite(spec);
  return import_tflite(bytes.data(), bytes.size(), "test.tflite");
}

// The importer's error for `spec`, or "" when it imports.
std::string import_error(const ModelSpec& spec) {
  try {
    import_spec(spec);
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_IMPORT_ERROR(spec, ...)                                                            \
  do {                                                                                            \
    const std::string msg_ = import_error(spec);                                                  \
    ASSERT_FALSE(msg_.empty()) << "imported without error";                                       \
    EXPECT_EQ(msg_.find('\n'), std::string::npos) << msg_;                                        \
    EXPECT_EQ(msg_.rfind("test.tflite: ", 0), 0u) << msg_;                                        \
    for (const char* part_ : {__VA_ARGS__})                                                       \
      EXPECT_NE(msg_.find(part_), std::string::npos) << "'" << part_ << "' missing in: " << msg_; \
  } while (0)

std::vector<OpCode> ops_of(const ir::Graph& g) {
  std::vector<OpCode> ops;
  for (const auto& n : g.nodes) ops.push_back(n.op);
  return ops;
}

const ir::Tensor& in_tensor(const ir::Graph& g, size_t node, size_t input) {
  return g.tensors.at(static_cast<size_t>(g.nodes.at(node).inputs.at(input)));
}
const ir::Tensor& out_tensor(const ir::Graph& g, size_t node) {
  return g.tensors.at(static_cast<size_t>(g.nodes.at(node).outputs.at(0)));
}

TEST(TfliteImport, Int8ModelOpsShapesAndAttributes) {
  const ir::Graph g = import_spec(testing::tiny_int8_model());
  EXPECT_EQ(g.source, "test.tflite");
  EXPECT_EQ(ops_of(g),
            (std::vector<OpCode>{OpCode::Conv2D, OpCode::DepthwiseConv2D, OpCode::AveragePool2D,
                                 OpCode::Reshape, OpCode::FullyConnected, OpCode::Softmax}));
  // The reshape's shape operand is dropped, so one tensor fewer than the file has.
  EXPECT_EQ(g.tensors.size(), testing::tiny_int8_model().tensors.size() - 1);
  ASSERT_EQ(g.inputs.size(), 1u);
  ASSERT_EQ(g.outputs.size(), 1u);
  const ir::Tensor& input = g.tensors[static_cast<size_t>(g.inputs[0])];
  EXPECT_EQ(input.name, "input");
  EXPECT_EQ(input.shape, (std::vector<int32_t>{1, 8, 8, 2}));
  EXPECT_EQ(input.type, DType::i8);
  EXPECT_FLOAT_EQ(input.quant.scale.at(0), 0.05f);
  EXPECT_EQ(input.quant.zero_point.at(0), -3);
  EXPECT_FALSE(input.constant);

  const ir::Node& conv = g.nodes[0];
  EXPECT_EQ(conv.params.get<ops::ConvAttrs>().window.padding, ir::Padding::same);
  EXPECT_EQ(conv.params.get<ops::ConvAttrs>().activation, ir::Activation::relu);
  const ir::Tensor& filter = in_tensor(g, 0, 1);
  EXPECT_TRUE(filter.constant);
  EXPECT_EQ(filter.data.size(), 72u);
  EXPECT_TRUE(filter.quant.per_channel());
  EXPECT_EQ(filter.quant.axis, 0);
  EXPECT_EQ(in_tensor(g, 0, 2).type, DType::i32);

  const ir::Node& dw = g.nodes[1];
  EXPECT_EQ(dw.params.get<ops::ConvAttrs>().window.stride_h, 2);
  EXPECT_EQ(dw.params.get<ops::ConvAttrs>().window.stride_w, 2);
  EXPECT_EQ(dw.params.get<ops::ConvAttrs>().depth_multiplier, 1);
  ASSERT_EQ(dw.inputs.size(), 3u);
  EXPECT_EQ(dw.inputs[2], -1) << "absent bias stays -1";
  EXPECT_EQ(in_tensor(g, 1, 1).quant.axis, 3);
  EXPECT_EQ(out_tensor(g, 1).shape, (std::vector<int32_t>{1, 4, 4, 4}));

  EXPECT_EQ(g.nodes[2].params.get<ops::PoolAttrs>().window.filter_h, 4);
  EXPECT_EQ(g.nodes[2].params.get<ops::PoolAttrs>().window.padding, ir::Padding::valid);
  EXPECT_EQ(g.nodes[3].inputs.size(), 1u);
  EXPECT_EQ(out_tensor(g, 3).shape, (std::vector<int32_t>{1, 4}));
  EXPECT_EQ(ops::fused_activation(g.nodes[4]), ir::Activation::none);
  EXPECT_FLOAT_EQ(g.nodes[5].params.get<ops::SoftmaxAttrs>().beta, 1.0f);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.outputs[0])].name, "probs");
}

TEST(TfliteImport, MixedModelCoversTheOtherOps) {
  const ir::Graph g = import_spec(testing::tiny_mixed_model());
  EXPECT_EQ(ops_of(g), (std::vector<OpCode>{OpCode::Quantize, OpCode::Conv2D, OpCode::MaxPool2D,
                                            OpCode::Add, OpCode::Dequantize, OpCode::Reshape,
                                            OpCode::FullyConnected, OpCode::Softmax}));
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.inputs[0])].type, DType::f32);
  EXPECT_EQ(out_tensor(g, 0).type, DType::i8);
  EXPECT_EQ(ops::fused_activation(g.nodes[1]), ir::Activation::relu6);
  EXPECT_EQ(out_tensor(g, 1).shape, (std::vector<int32_t>{1, 4, 4, 4}));
  EXPECT_FALSE(in_tensor(g, 1, 1).quant.per_channel());
  EXPECT_EQ(g.nodes[2].params.get<ops::PoolAttrs>().window.stride_h, 2);
  EXPECT_EQ(g.nodes[3].inputs[0], g.nodes[3].inputs[1]);
  EXPECT_EQ(out_tensor(g, 4).type, DType::f32);
  EXPECT_EQ(ops::fused_activation(g.nodes[6]), ir::Activation::relu);
  EXPECT_FLOAT_EQ(g.nodes[7].params.get<ops::SoftmaxAttrs>().beta, 0.5f);
  // Float tensors carry no quantization even when the file gives some.
  EXPECT_FALSE(in_tensor(g, 6, 1).quant.present());
}

TEST(TfliteImport, MetricsOfTheInt8Model) {
  const ir::GraphMetrics m = ir::graph_metrics(import_spec(testing::tiny_int8_model()));
  // conv 8*8*4 outputs * 3*3*2; depthwise 4*4*4 * 3*3; FC 3 * 4; pool/reshape/softmax 0.
  ASSERT_EQ(m.nodes.size(), 6u);
  EXPECT_EQ(m.nodes[0].macs, 8 * 8 * 4 * 3 * 3 * 2);
  EXPECT_EQ(m.nodes[1].macs, 4 * 4 * 4 * 3 * 3);
  EXPECT_EQ(m.nodes[2].macs, 0);
  EXPECT_EQ(m.nodes[4].macs, 3 * 4);
  EXPECT_EQ(m.macs, 4608 + 576 + 12);
  EXPECT_EQ(m.params, (72 + 4) + 36 + (12 + 3));
  EXPECT_EQ(m.weight_bytes, (72 + 16) + 36 + (12 + 12));
}

TEST(TfliteImport, OldStyleOpcodeFieldIsRead) {
  ModelSpec spec = testing::tiny_int8_model();
  for (OpSpec& op : spec.ops) op.old_style_code = true;  // builtin_code left at 0 (ADD)
  const ir::Graph g = import_spec(spec);
  EXPECT_EQ(g.nodes[0].op, OpCode::Conv2D);
  EXPECT_EQ(g.nodes[5].op, OpCode::Softmax);
}

TEST(TfliteImport, ExtendedOpcodeAbove127IsNamed) {
  ModelSpec spec = testing::tiny_int8_model();
  spec.ops[5].op = B::GELU;  // 150: deprecated_builtin_code holds the placeholder 127
  spec.ops[5].with_options = false;
  EXPECT_IMPORT_ERROR(spec, "op 5 (GELU) v1 int8: no tinyforge op maps this builtin");
}

TEST(TfliteImport, UnsupportedOpNamesOpVersionAndDtype) {
  ModelSpec spec = testing::tiny_int8_model();
  spec.ops[2].op = B::L2_POOL_2D;
  EXPECT_IMPORT_ERROR(spec, "op 2 (L2_POOL_2D) v1 int8: ", "docs/ops.md");
  spec.ops[2].op = B::CUSTOM;
  spec.ops[2].custom_code = "MyFancyOp";
  EXPECT_IMPORT_ERROR(spec, "op 2 (CUSTOM 'MyFancyOp')", "custom op; expected a builtin op");
}

TEST(TfliteImport, HybridWeightsAreDequantized) {
  // float conv with int8 weights (weight-only quantization), per channel.
  ModelSpec m;
  m.tensors.push_back({"in", {1, 3, 3, 1}});
  m.tensors.push_back({"w",
                       {2, 3, 3, 1},
                       tfl::TensorType::INT8,
                       testing::bytes_of(testing::pattern<int8_t>(18, -127, 127, 21)),
                       {0.5f, 0.25f},
                       {0, 0},
                       0});
  m.tensors.push_back(
      {"b", {2}, tfl::TensorType::FLOAT32, testing::bytes_of(std::vector<float>{1, 2})});
  m.tensors.push_back({"out", {1, 1, 1, 2}});
  m.ops.push_back({B::CONV_2D, {0, 1, 2}, {3}});
  m.inputs = {0};
  m.outputs = {3};
  const ir::Graph g = import_spec(m);
  const ir::Tensor& w = in_tensor(g, 0, 1);
  EXPECT_EQ(w.type, DType::f32);
  EXPECT_FALSE(w.quant.present());
  const auto q = testing::pattern<int8_t>(18, -127, 127, 21);
  for (int i = 0; i < 18; ++i)
    EXPECT_FLOAT_EQ(w.at<float>(i), (i < 9 ? 0.5f : 0.25f) * q[static_cast<size_t>(i)]) << i;
}

TEST(TfliteImport, ExternalBufferDataIsRead) {
  ModelSpec spec = testing::tiny_int8_model();
  spec.tensors[1].external_data = true;  // conv filter stored after the flatbuffer
  const ir::Graph g = import_spec(spec);
  EXPECT_EQ(in_tensor(g, 0, 1).data, spec.tensors[1].data);
}

TEST(TfliteImport, DepthMultiplierComesFromShapes) {
  ModelSpec m;
  m.tensors.push_back({"in", {1, 5, 5, 2}});
  m.tensors.push_back(
      {"w", {1, 3, 3, 6}, tfl::TensorType::FLOAT32, testing::bytes_of(testing::float_pattern(54))});
  m.tensors.push_back({"out", {1, 3, 3, 6}});
  OpSpec dw{B::DEPTHWISE_CONV_2D, {0, 1}, {2}};
  dw.depth_multiplier = 0;  // redundant in the format; ignored
  m.ops.push_back(dw);
  m.inputs = {0};
  m.outputs = {2};
  const ir::Graph g = import_spec(m);
  EXPECT_EQ(g.nodes[0].params.get<ops::ConvAttrs>().depth_multiplier, 3);
  EXPECT_EQ(g.nodes[0].inputs.size(), 3u);
  EXPECT_EQ(g.nodes[0].inputs[2], -1);
  EXPECT_EQ(ir::graph_metrics(g).macs, 3 * 3 * 6 * 3 * 3);
}

TEST(TfliteImport, OutputSizesFollowPaddingStrideAndDilation) {
  struct Case {
    tfl::Padding pad;
    int in, filter, stride, dilation, out;
  };
  // SAME: ceil(in/stride); VALID: ceil((in - ((filter-1)*dilation+1) + 1) / stride).
  const Case cases[] = {{tfl::Padding::SAME, 7, 3, 2, 1, 4},   {tfl::Padding::VALID, 7, 3, 2, 1, 3},
                        {tfl::Padding::VALID, 9, 3, 1, 2, 5},  {tfl::Padding::SAME, 9, 3, 1, 2, 9},
                        {tfl::Padding::VALID, 10, 4, 3, 1, 3}, {tfl::Padding::SAME, 1, 5, 1, 1, 1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "in " << c.in << " filter " << c.filter << " stride "
                                      << c.stride << " dilation " << c.dilation);
    ModelSpec m;
    m.tensors.push_back({"in", {1, c.in, 2, 1}});
    m.tensors.push_back({"w",
                         {1, c.filter, 1, 1},
                         tfl::TensorType::FLOAT32,
                         testing::bytes_of(testing::float_pattern(static_cast<size_t>(c.filter)))});
    m.tensors.push_back({"out", {1, c.out, 2, 1}});
    OpSpec conv{B::CONV_2D, {0, 1, -1}, {2}};
    conv.padding = c.pad;
    conv.stride_h = c.stride;
    conv.dilation_h = c.dilation;
    m.ops.push_back(conv);
    m.inputs = {0};
    m.outputs = {2};
    const ir::Graph g = import_spec(m);
    EXPECT_EQ(g.nodes[0].params.get<ops::ConvAttrs>().window.dilation_h, c.dilation);
    m.tensors[2].shape = {1, c.out + 1, 2, 1};
    EXPECT_IMPORT_ERROR(m, "op 0 (CONV_2D)", "output", "expected [1,");
  }
}

TEST(TfliteImport, FullyConnectedKeepNumDims) {
  ModelSpec m;
  m.tensors.push_back({"in", {1, 2, 4}});
  m.tensors.push_back(
      {"w", {3, 4}, tfl::TensorType::FLOAT32, testing::bytes_of(testing::float_pattern(12))});
  m.tensors.push_back({"out", {1, 2, 3}});
  OpSpec fc{B::FULLY_CONNECTED, {0, 1, -1}, {2}};
  fc.keep_num_dims = true;
  m.ops.push_back(fc);
  m.inputs = {0};
  m.outputs = {2};
  const ir::Graph g = import_spec(m);
  EXPECT_EQ(ir::graph_metrics(g).macs, 2 * 3 * 4);
  m.tensors[2].shape = {2, 3};  // keep_num_dims wants [1,2,3]
  EXPECT_IMPORT_ERROR(m, "op 0 (FULLY_CONNECTED)", "expected [1,2,3]");
  m.ops[0].keep_num_dims = false;  // then [2,3] is right
  EXPECT_NO_THROW(import_spec(m));
}

TEST(TfliteImport, SqueezeAndExpandDimsAreReshapes) {
  ModelSpec m;
  m.tensors.push_back({"in", {1, 3, 1, 2}});
  m.tensors.push_back({"out", {3, 1, 2}});
  OpSpec squeeze{B::SQUEEZE, {0}, {1}};
  squeeze.squeeze_dims = {0};
  m.ops.push_back(squeeze);
  m.inputs = {0};
  m.outputs = {1};
  ir::Graph g = import_spec(m);
  EXPECT_EQ(ops_of(g), std::vector<OpCode>{OpCode::Reshape});
  EXPECT_EQ(g.nodes[0].inputs.size(), 1u);
  m.tensors[1].shape = {3, 2};  // squeeze_dims {0} keeps dim 2
  EXPECT_IMPORT_ERROR(m, "op 0 (SQUEEZE)", "squeezing gives [3,1,2]");
  m.ops[0].squeeze_dims = {};  // no dims listed: every size-1 dim goes
  EXPECT_NO_THROW(import_spec(m));
  m.ops[0].squeeze_dims = {1};  // size 3
  EXPECT_IMPORT_ERROR(m, "op 0 (SQUEEZE)", "squeeze_dims lists 1");

  ModelSpec e;
  e.tensors.push_back({"in", {3, 2}});
  e.tensors.push_back(
      {"axis", {1}, tfl::TensorType::INT32, testing::bytes_of(std::vector<int32_t>{-1})});
  e.tensors.push_back({"out", {3, 2, 1}});
  e.ops.push_back(OpSpec{B::EXPAND_DIMS, {0, 1}, {2}});
  e.inputs = {0};
  e.outputs = {2};
  g = import_spec(e);
  EXPECT_EQ(ops_of(g), std::vector<OpCode>{OpCode::Reshape});
  e.tensors[2].shape = {1, 3, 2};  // axis -1 inserts at the end
  EXPECT_IMPORT_ERROR(e, "op 0 (EXPAND_DIMS)", "expanding gives [3,2,1]");
  e.tensors[1].data = testing::bytes_of(std::vector<int32_t>{4});
  EXPECT_IMPORT_ERROR(e, "op 0 (EXPAND_DIMS)", "is 4; expected -3..2");
}

TEST(TfliteImport, ModelLevelErrors) {
  ModelSpec spec = testing::tiny_int8_model();
  spec.num_subgraphs = 2;
  EXPECT_IMPORT_ERROR(spec, "2 subgraphs", "expected exactly 1");
  spec = testing::tiny_int8_model();
  spec.version = 2;
  EXPECT_IMPORT_ERROR(spec, "schema version 2", "expected 3");
  spec = testing::tiny_int8_model();
  spec.inputs = {1};  // the conv filter, a constant
  EXPECT_IMPORT_ERROR(spec, "model input", "'conv/filter'", "constant");
  spec = testing::tiny_int8_model();
  spec.inputs = {0, 0};
  EXPECT_IMPORT_ERROR(spec, "model input lists tensor 0 'input' twice");
  spec = testing::tiny_int8_model();
  spec.outputs = {40};
  EXPECT_IMPORT_ERROR(spec, "model output lists tensor 40", "expected 0..");
}

TEST(TfliteImport, TensorErrors) {
  ModelSpec spec = testing::tiny_int8_model();
  spec.tensors[0].type = tfl::TensorType::UINT8;
  EXPECT_IMPORT_ERROR(spec, "tensor 0 'input'", "UINT8", "not supported");
  spec = testing::tiny_int8_model();
  spec.tensors[1].scale.pop_back();  // 3 scales for 4 channels
  spec.tensors[1].zero_point.pop_back();
  EXPECT_IMPORT_ERROR(spec, "'conv/filter'", "3 scales", "expected 1 or 4");
  spec = testing::tiny_int8_model();
  spec.tensors[1].zero_point.pop_back();
  EXPECT_IMPORT_ERROR(spec, "'conv/filter'", "4 scales and 3 zero points");
  spec = testing::tiny_int8_model();
  spec.tensors[0].zero_point = {300};
  EXPECT_IMPORT_ERROR(spec, "'input'", "zero_point[0] = 300", "expected -128..127");
  spec = testing::tiny_int8_model();
  spec.tensors[0].scale = {-1.0f};
  EXPECT_IMPORT_ERROR(spec, "'input'", "scale[0] = -1", "> 0");
  spec = testing::tiny_int8_model();
  spec.tensors[3].shape = {1, 8, -8, 4};
  EXPECT_IMPORT_ERROR(spec, "'conv/out'", "dimension 2", "-8", "expected >= 1");
  spec = testing::tiny_int8_model();
  spec.tensors[3].shape = {1, 65536, 65536, 4};
  EXPECT_IMPORT_ERROR(spec, "'conv/out'", "2 GiB");
  spec = testing::tiny_int8_model();
  spec.tensors[1].data.resize(70);
  EXPECT_IMPORT_ERROR(spec, "'conv/filter'", "holds 70 bytes", "expected 72");
  spec = testing::tiny_int8_model();
  spec.tensors[0].scale.clear();
  spec.tensors[0].zero_point.clear();
  EXPECT_IMPORT_ERROR(spec, "'input'", "INT8 tensor without quantization");
  spec = testing::tiny_int8_model();
  spec.tensors[1].zero_point[2] = 3;
  EXPECT_IMPORT_ERROR(spec, "op 0 (CONV_2D)", "zero point 3", "symmetric");
}

TEST(TfliteImport, OpErrors) {
  ModelSpec spec = testing::tiny_int8_model();
  spec.ops[0].inputs = {0, 1, 2, 2};
  EXPECT_IMPORT_ERROR(spec, "op 0 (CONV_2D)", "has 4 inputs", "expected 2 to 3");
  spec = testing::tiny_int8_model();
  spec.ops[0].inputs[1] = -1;
  EXPECT_IMPORT_ERROR(spec, "op 0 (CONV_2D)", "input 1 is tensor -1");
  spec = testing::tiny_int8_model();
  spec.ops[0].with_options = false;
  EXPECT_IMPORT_ERROR(spec, "op 0 (CONV_2D)", "Conv2DOptions missing");
  spec = testing::tiny_int8_model();
  spec.ops[0].stride_h = 0;
  EXPECT_IMPORT_ERROR(spec, "op 0 (CONV_2D)", "stride_h is 0");
  spec = testing::tiny_int8_model();
  spec.ops[0].activation = tfl::ActivationFunctionType::TANH;
  EXPECT_IMPORT_ERROR(spec, "op 0 (CONV_2D)", "fused activation 4");
  spec = testing::tiny_int8_model();
  spec.ops[2].filter_h = 5;  // VALID 5x4 window on a 4x4 input
  EXPECT_IMPORT_ERROR(spec, "op 2 (AVERAGE_POOL_2D)", "larger than the input");
  spec = testing::tiny_int8_model();
  spec.tensors[12].scale = {0.5f};  // softmax output must be 1/256, -128
  EXPECT_IMPORT_ERROR(spec, "op 5 (SOFTMAX)", "expected 1/256 and -128");
  spec = testing::tiny_int8_model();
  spec.ops[3].outputs = {10};  // reshape [1,1,1,4] -> FC weights [3,4]: constant output
  EXPECT_IMPORT_ERROR(spec, "op 3 (RESHAPE)");
  spec = testing::tiny_int8_model();
  spec.ops[4].inputs[2] = 5;  // bias is the int8 depthwise output
  EXPECT_IMPORT_ERROR(spec, "op 4 (FULLY_CONNECTED)", "input 2", "expected int32");
}

// x [1,6] reshaped to SHAPE(z) = [2,3], plus z: the SHAPE is folded into a constant that
// RESHAPE reads, so only RESHAPE and ADD remain.
ModelSpec reshape_to_shape_of_model() {
  using B = tfl::BuiltinOperator;
  ModelSpec m;
  m.tensors = {{"x", {1, 6}},
               {"z", {2, 3}},
               {"s", {2}, tfl::TensorType::INT32},
               {"y", {2, 3}},
               {"w", {2, 3}}};
  OpSpec shape{B::SHAPE, {1}, {2}};
  shape.with_options = false;
  m.ops = {shape, OpSpec{B::RESHAPE, {0, 2}, {3}}, OpSpec{B::ADD, {3, 1}, {4}}};
  m.inputs = {0, 1};
  m.outputs = {4};
  return m;
}

TEST(TfliteImport, ShapeIsFoldedIntoTheConstantItsReadersTake) {
  const ir::Graph g = import_spec(reshape_to_shape_of_model());
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op, OpCode::Reshape);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.nodes[0].outputs[0])].shape,
            (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(g.nodes[1].op, OpCode::Add);
  ModelSpec out = reshape_to_shape_of_model();
  out.outputs = {2, 4};
  EXPECT_IMPORT_ERROR(out, "op 0 (SHAPE)", "model output");
  ModelSpec wrong = reshape_to_shape_of_model();
  wrong.tensors[2].shape = {3};
  EXPECT_IMPORT_ERROR(wrong, "op 0 (SHAPE)", "expected [2]");
}

TEST(TfliteImport, GraphOrderErrors) {
  // op 0 reads the conv output that op 1 writes: cyclic/unordered.
  ModelSpec spec = testing::tiny_int8_model();
  std::swap(spec.ops[0], spec.ops[1]);
  EXPECT_IMPORT_ERROR(spec, "op 0 (DepthwiseConv2D)", "before any op writes it");
  // Two ops write the same tensor.
  ModelSpec twice;
  twice.tensors = {TensorSpec("in", {1, 4}), TensorSpec("out", {1, 4})};
  twice.ops = {OpSpec(B::SOFTMAX, {0}, {1}), OpSpec(B::SOFTMAX, {0}, {1})};
  twice.inputs = {0};
  twice.outputs = {1};
  EXPECT_IMPORT_ERROR(twice, "op 1 (Softmax)", "already defined");
  // An op writes the model input.
  twice.ops = {OpSpec(B::SOFTMAX, {0}, {1}), OpSpec(B::SOFTMAX, {1}, {0})};
  EXPECT_IMPORT_ERROR(twice, "op 1 (Softmax)", "writes tensor 0", "already defined");
}

TEST(TfliteImport, TruncatedAndForeignBytes) {
  const std::vector<uint8_t> good = testing::build_tflite(testing::tiny_int8_model());
  EXPECT_ERROR(import_tflite(good.data(), 0, "x.tflite"), tinyforge::Error, "file is 0 bytes");
  EXPECT_ERROR(import_tflite(good.data(), good.size() / 2, "x.tflite"), tinyforge::Error,
               "flatbuffer verification failed");
  std::vector<uint8_t> other = good;
  other[4] = 'X';
  try {
    import_tflite(other.data(), other.size(), "x.tflite");
    FAIL();
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected 'TFL3'"), std::string::npos) << e.what();
  }
  // Misaligned input is copied, not read in place.
  std::vector<uint8_t> shifted(good.size() + 1);
  std::memcpy(shifted.data() + 1, good.data(), good.size());
  EXPECT_EQ(import_tflite(shifted.data() + 1, good.size(), "x.tflite").nodes.size(), 6u);
}

// --- third-party models -----------------------------------------------------------------

std::string dtype_of_manifest(DType t) {
  switch (t) {
    case DType::f32:
      return "FLOAT32";
    case DType::i8:
      return "INT8";
    case DType::i32:
      return "INT32";
    default:
      return "other";
  }
}

TEST(TfliteImport, SharedModelsMatchTheirManifests) {
  TINYFORGE_REQUIRE_SHARED("models");
  namespace fs = std::filesystem;
  int imported = 0, compared = 0;
  for (const auto& entry : fs::directory_iterator(testing::shared_dir() / "models")) {
    if (entry.path().extension() != ".tflite") continue;
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    ir::Graph g;
    ASSERT_NO_THROW(g = import_tflite_file(entry.path().string()));
    ++imported;
    const fs::path manifest_path = testing::shared_dir() / "golden" / name / "manifest.json";
    if (!fs::exists(manifest_path)) continue;
    const auto manifest = nlohmann::json::parse(io::read_file(manifest_path.string()));
    if (manifest.value("status", "") != "ok") continue;
    ++compared;
    for (const char* side : {"inputs", "outputs"}) {
      const std::vector<int>& ours = std::string(side) == "inputs" ? g.inputs : g.outputs;
      ASSERT_EQ(ours.size(), manifest[side].size()) << side;
      for (size_t i = 0; i < ours.size(); ++i) {
        const ir::Tensor& t = g.tensors[static_cast<size_t>(ours[i])];
        const auto& want = manifest[side][i];
        EXPECT_EQ(t.shape, want["shape"].get<std::vector<int32_t>>()) << side << " " << i;
        EXPECT_EQ(dtype_of_manifest(t.type), want["dtype"].get<std::string>()) << side << " " << i;
        if (t.type == DType::i8) {
          EXPECT_FLOAT_EQ(t.quant.scale.at(0), want["scale"].get<float>());
          EXPECT_EQ(t.quant.zero_point.at(0), want["zero_point"].get<int32_t>());
        }
      }
    }
  }
  std::printf("tflite import: %d shared models imported, %d compared with golden manifests\n",
              imported, compared);
  EXPECT_GT(imported, 0);
}

TEST(TfliteImport, MacsMatchTheAnchors) {
  TINYFORGE_REQUIRE_SHARED("anchors/tflm_cortex_m4.json");
  const auto anchors = nlohmann::json::parse(
      io::read_file((testing::shared_dir() / "anchors/tflm_cortex_m4.json").string()));
  int checked = 0;
  for (const auto& [name, figures] : anchors["models"].items()) {
    if (!figures.contains("macs")) continue;
    const std::filesystem::path model = testing::shared_dir() / "models" / (name + ".tflite");
    if (!std::filesystem::exists(model)) continue;
    const ir::GraphMetrics m = ir::graph_metrics(import_tflite_file(model.string()));
    EXPECT_EQ(m.macs, figures["macs"].get<int64_t>()) << name;
    std::printf("macs %-24s ours %lld anchor %lld; params %lld, weight bytes %lld\n", name.c_str(),
                static_cast<long long>(m.macs),
                static_cast<long long>(figures["macs"].get<int64_t>()),
                static_cast<long long>(m.params), static_cast<long long>(m.weight_bytes));
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

TEST(TfliteImport, FloatKwsWithInt8WeightsImportsAsFloat) {
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model_float32.tflite");
  const ir::Graph g =
      import_tflite_file((testing::shared_dir() / "models/kws_ref_model_float32.tflite").string());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (int t : g.nodes[i].inputs)
      if (t >= 0) {
        EXPECT_NE(g.tensors[static_cast<size_t>(t)].type, DType::i8) << g.node_label(i);
      }
  // Same layers as the int8 model, so the same work.
  EXPECT_EQ(ir::graph_metrics(g).macs, 2656768);
}

}  // namespace
}  // namespace tinyforge
