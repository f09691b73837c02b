// The quantizer on a small random CNN: the structure it produces (TFLite conventions,
// float or int8 I/O), that the result compiles, runs and stays close to float, that it
// survives the TFLite writer, and its refusals.
#include "quantize/quantize_graph.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "expect_error.h"
#include "export/tflite_writer.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "ops/concatenation.h"
#include "ops/gather.h"
#include "ops/unary_math.h"
#include "quantize/layer_error.h"

namespace tinyforge::quantize {
namespace {

constexpr uint32_t kCases = 24;

struct Fixture {
  ir::Graph graph = testing::small_float_cnn(11);
  CalibrationSet data =
      make_calibration_set(graph, {testing::random_floats(kCases * 128, 3)}, {"cal"});
};

const ir::Tensor& tensor(const ir::Graph& g, int t) { return g.tensors.at(static_cast<size_t>(t)); }

const ir::Node* find_op(const ir::Graph& g, OpCode op) {
  for (const ir::Node& n : g.nodes)
    if (n.op == op) return &n;
  return nullptr;
}

TEST(QuantizeGraph, FloatIoKeepsTypesWithQuantizeAndDequantizeInside) {
  Fixture f;
  const ir::Graph q = quantize_model(f.graph, f.data, {});
  ASSERT_EQ(q.inputs.size(), 1u);
  EXPECT_EQ(tensor(q, q.inputs[0]).type, DType::f32);
  EXPECT_EQ(tensor(q, q.outputs[0]).type, DType::f32);
  EXPECT_EQ(tensor(q, q.outputs[0]).name, "probs");  // the float output keeps its name
  EXPECT_EQ(q.nodes.front().op, OpCode::Quantize);
  EXPECT_EQ(q.nodes.back().op, OpCode::Dequantize);
  EXPECT_EQ(q.nodes.size(), f.graph.nodes.size() + 2);
  // Every node between them computes in int8.
  for (size_t i = 1; i + 1 < q.nodes.size(); ++i)
    EXPECT_EQ(tensor(q, q.nodes[i].outputs[0]).type, DType::i8) << q.node_label(i);
}

TEST(QuantizeGraph, Int8IoHasInt8ModelInputsAndOutputs) {
  Fixture f;
  QuantizeOptions o;
  o.int8_io = true;
  const ir::Graph q = quantize_model(f.graph, f.data, o);
  EXPECT_EQ(tensor(q, q.inputs[0]).type, DType::i8);
  EXPECT_EQ(tensor(q, q.outputs[0]).type, DType::i8);
  EXPECT_EQ(q.nodes.size(), f.graph.nodes.size());
  EXPECT_EQ(find_op(q, OpCode::Quantize), nullptr);
}

TEST(QuantizeGraph, FollowsTfliteConventions) {
  Fixture f;
  const ir::Graph q = quantize_model(f.graph, f.data, {});
  // Conv weights: int8 symmetric per output channel; bias int32 at input * weight scale.
  const ir::Node& conv = *find_op(q, OpCode::Conv2D);
  const ir::Tensor& w = tensor(q, conv.inputs[1]);
  EXPECT_EQ(w.type, DType::i8);
  EXPECT_EQ(w.quant.scale.size(), 8u);
  EXPECT_EQ(w.quant.axis, 0);
  for (int32_t zp : w.quant.zero_point) EXPECT_EQ(zp, 0);
  for (int64_t i = 0; i < w.elements(); ++i) EXPECT_GE(w.at<int8_t>(i), -127);
  const ir::Tensor& b = tensor(q, conv.inputs[2]);
  EXPECT_EQ(b.type, DType::i32);
  const float in_scale = tensor(q, conv.inputs[0]).quant.scale[0];
  for (size_t c = 0; c < 8; ++c) EXPECT_FLOAT_EQ(b.quant.scale[c], in_scale * w.quant.scale[c]);
  // Depthwise: per channel along the last axis.
  const ir::Tensor& dw = tensor(q, find_op(q, OpCode::DepthwiseConv2D)->inputs[1]);
  EXPECT_EQ(dw.quant.axis, 3);
  EXPECT_EQ(dw.quant.scale.size(), 6u);
  // FullyConnected: per tensor, as TFLite's converter does.
  EXPECT_EQ(tensor(q, find_op(q, OpCode::FullyConnected)->inputs[1]).quant.scale.size(), 1u);
  // Max pool and reshape share their input's parameters; softmax is 1/256, -128.
  for (OpCode op : {OpCode::MaxPool2D, OpCode::Reshape}) {
    const ir::Node& n = *find_op(q, op);
    EXPECT_EQ(tensor(q, n.inputs[0]).quant.scale, tensor(q, n.outputs[0]).quant.scale);
    EXPECT_EQ(tensor(q, n.inputs[0]).quant.zero_point, tensor(q, n.outputs[0]).quant.zero_point);
  }
  const ir::Tensor& probs = tensor(q, find_op(q, OpCode::Softmax)->outputs[0]);
  EXPECT_FLOAT_EQ(probs.quant.scale[0], 1.0f / 256);
  EXPECT_EQ(probs.quant.zero_point[0], -128);
  // Activation ranges include 0: relu6 output's zero point is the int8 minimum.
  const ir::Tensor& conv2 = tensor(q, q.nodes[3].outputs[0]);
  EXPECT_EQ(conv2.quant.zero_point[0], -128);
}

TEST(QuantizeGraph, RunsCloseToFloatAndSurvivesTheWriter) {
  Fixture f;
  const std::vector<uint8_t> test = testing::random_floats(kCases * 128, 77);
  const std::vector<float> reference =
      testing::as_floats(testing::run_graph(f.graph, {test}, kCases));
  for (RangeMethod m : {RangeMethod::minmax, RangeMethod::percentile, RangeMethod::mse}) {
    SCOPED_TRACE(range_method_name(m));
    QuantizeOptions o;
    o.method = m;
    const ir::Graph q = quantize_model(f.graph, f.data, o);
    const std::vector<uint8_t> out = testing::run_graph(q, {test}, kCases);
    EXPECT_GT(sqnr_db(reference, testing::as_floats(out)), 25.0);
    const std::vector<uint8_t> bytes = tflite_export::write_tflite(q);
    const ir::Graph back = import_tflite(bytes.data(), bytes.size(), "q.tflite");
    EXPECT_EQ(testing::run_graph(back, {test}, kCases), out);
  }
}

// A float LogSoftmax gets TFLite's fixed int8 output (16/256, 127), so the whole graph
// quantizes to int8, compiles (the int8 lowering accepts only that output), stays close to
// float log-probabilities and exports as an int8 LOG_SOFTMAX.
TEST(QuantizeGraph, LogSoftmaxGetsTflitesFixedOutputQuantization) {
  Fixture f;
  for (ir::Node& n : f.graph.nodes)
    if (n.op == OpCode::Softmax) {
      n.op = OpCode::LogSoftmax;
      n.params = {};
    }
  const ir::Graph q = quantize_model(f.graph, f.data, {});
  const ir::Node* log_softmax = find_op(q, OpCode::LogSoftmax);
  ASSERT_NE(log_softmax, nullptr);
  const ir::Tensor& out = tensor(q, log_softmax->outputs[0]);
  EXPECT_EQ(out.type, DType::i8);
  EXPECT_EQ(out.quant.scale, std::vector<float>{16.0f / 256});
  EXPECT_EQ(out.quant.zero_point, std::vector<int32_t>{127});
  EXPECT_EQ(tensor(q, log_softmax->inputs[0]).type, DType::i8);
  EXPECT_EQ(q.nodes.size(), f.graph.nodes.size() + 2);  // no float island
  const std::vector<uint8_t> test = testing::random_floats(kCases * 128, 77);
  const std::vector<float> reference =
      testing::as_floats(testing::run_graph(f.graph, {test}, kCases));
  const std::vector<uint8_t> got = testing::run_graph(q, {test}, kCases);
  EXPECT_GT(sqnr_db(reference, testing::as_floats(got)), 25.0);
  const std::vector<uint8_t> bytes = tflite_export::write_tflite(q);
  const ir::Graph back = import_tflite(bytes.data(), bytes.size(), "q.tflite");
  EXPECT_NE(find_op(back, OpCode::LogSoftmax), nullptr);
  EXPECT_EQ(testing::run_graph(back, {test}, kCases), got);
}

TEST(QuantizeGraph, BiasCorrectionRemovesTheMeanShiftOfWeightRounding) {
  // Inputs with a large positive mean make weight rounding shift every output channel.
  Fixture f;
  f.data =
      make_calibration_set(f.graph, {testing::random_floats(kCases * 128, 3, 0.5f, 1.0f)}, {"cal"});
  QuantizeOptions with, without;
  without.bias_correction = false;
  const ir::Graph a = quantize_model(f.graph, f.data, with);
  const ir::Graph b = quantize_model(f.graph, f.data, without);
  double better = 0;
  const auto ea = layer_errors(f.graph, a, f.data), eb = layer_errors(f.graph, b, f.data);
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i)
    if (ea[i].tensor == "logits") better = ea[i].sqnr_db - eb[i].sqnr_db;
  EXPECT_GT(better, 0.0) << "bias correction should not make the logits worse on its own data";
}

TEST(QuantizeGraph, LayerErrorsNameEveryActivation) {
  Fixture f;
  const ir::Graph q = quantize_model(f.graph, f.data, {});
  const std::vector<LayerError> errors = layer_errors(f.graph, q, f.data);
  ASSERT_EQ(errors.size(), f.graph.nodes.size() + 1);  // the input and every node output
  EXPECT_EQ(errors.front().tensor, "input");
  EXPECT_EQ(errors.back().tensor, "probs");
  for (const LayerError& e : errors) EXPECT_GT(e.sqnr_db, 15.0) << e.tensor;
}

TEST(QuantizeGraph, VerboseLogNamesRanges) {
  Fixture f;
  std::vector<std::string> lines;
  QuantizeOptions o;
  o.log = [&](const std::string& l) { lines.push_back(l); };
  std::vector<Progress> progress;
  o.progress = [&](const Progress& p) { progress.push_back(p); };
  quantize_model(f.graph, f.data, o);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("tensor 'input': range ["), std::string::npos) << lines.front();
  ASSERT_EQ(progress.size(), kCases);  // minmax: one pass
  EXPECT_EQ(progress.back().done, kCases);
  o.method = RangeMethod::mse;
  progress.clear();
  quantize_model(f.graph, f.data, o);
  EXPECT_EQ(progress.size(), 2 * kCases);  // histograms need a second pass
}

TEST(QuantizeGraph, FloatIslandsGetDequantizeBeforeAndQuantizeAfter) {
  Fixture f;
  const std::vector<TensorStats> stats = calibrate(f.graph, f.data, RangeMethod::minmax);
  std::vector<TensorCalibration> calibration(f.graph.tensors.size());
  for (size_t t = 0; t < stats.size(); ++t)
    if (stats[t].seen()) calibration[t].range = stats[t].choose(RangeMethod::minmax, 99.99);
  RewriteOptions o;
  o.float_nodes = {2};  // the second conv stays float
  const ir::Graph q = quantize_graph(f.graph, calibration, o);
  size_t conv2 = 0;
  for (size_t i = 0; i < q.nodes.size(); ++i)
    if (q.nodes[i].op == OpCode::Conv2D && tensor(q, q.nodes[i].inputs[1]).type == DType::f32)
      conv2 = i;
  ASSERT_GT(conv2, 0u);
  EXPECT_EQ(q.nodes[conv2 - 1].op, OpCode::Dequantize);
  EXPECT_EQ(q.nodes[conv2 + 1].op, OpCode::Quantize);
  EXPECT_EQ(tensor(q, q.nodes[conv2].outputs[0]).type, DType::f32);
  const std::vector<uint8_t> test = testing::random_floats(kCases * 128, 78);
  EXPECT_GT(sqnr_db(testing::as_floats(testing::run_graph(f.graph, {test}, kCases)),
                    testing::as_floats(testing::run_graph(q, {test}, kCases))),
            20.0);
}

TEST(QuantizeGraph, RefusesAnAlreadyQuantizedModel) {
  Fixture f;
  const ir::Graph q = quantize_model(f.graph, f.data, {});
  try {
    quantize_model(q, f.data, {});
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("already quantized"), std::string::npos) << e.what();
  }
}

TEST(QuantizeGraph, CalibrationFilesMustHoldWholeTensors) {
  const ir::Graph g = testing::small_float_cnn();
  EXPECT_ERROR(make_calibration_set(g, {std::vector<uint8_t>(100)}, {"short.bin"}),
               tinyforge::Error, "100 bytes is not a whole number of 'input' tensors");
  EXPECT_ERROR(make_calibration_set(g, {}, {}), tinyforge::Error,
               "1 input(s), 0 calibration file(s)");
  EXPECT_ERROR(make_calibration_set(
                   g, {testing::random_floats(128, 1), testing::random_floats(128, 1)}, {"a", "b"}),
               tinyforge::Error, "1 input(s), 2 calibration file(s)");
  try {
    make_calibration_set(g, {std::vector<uint8_t>(513)}, {"odd.bin"});
    FAIL();
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("odd.bin"), std::string::npos);
  }
}

TEST(QuantizeGraph, ConcatenationInputsAreRequantizedToTheOutput) {
  testing::GraphBuilder b(4);
  const int x = b.activation("x", {1, 4});
  const int y1 = b.activation("y1", {1, 3});
  const int y2 = b.activation("y2", {1, 3});
  const int cat = b.activation("cat", {1, 6});
  b.node(OpCode::FullyConnected, {x, b.weights("w1", {3, 4}, 0.2f), b.weights("b1", {3}, 0.1f)},
         y1);
  b.node(OpCode::FullyConnected, {x, b.weights("w2", {3, 4}, 2.0f), b.weights("b2", {3}, 0.1f)},
         y2);
  b.node(OpCode::Concatenation, {y1, y2}, cat, ops::ConcatenationAttrs{1});
  b.g.inputs = {x};
  b.g.outputs = {cat};
  const CalibrationSet data =
      make_calibration_set(b.g, {testing::random_floats(16 * 4, 8)}, {"cal"});
  const ir::Graph q = quantize_model(b.g, data, {});
  const ir::Node& c = *find_op(q, OpCode::Concatenation);
  for (int in : c.inputs) EXPECT_EQ(tensor(q, in).quant.scale, tensor(q, c.outputs[0]).quant.scale);
  const std::vector<uint8_t> test = testing::random_floats(16 * 4, 9);
  EXPECT_GT(sqnr_db(testing::as_floats(testing::run_graph(b.g, {test}, 16)),
                    testing::as_floats(testing::run_graph(q, {test}, 16))),
            25.0);
}

// Gather's int32 indices stay int32 (only float constants are quantized); the int8 Gather
// and Exp (its lookup table) run close to float.
TEST(QuantizeGraph, GatherIndicesStayInt32AndMathOpsRunCloseToFloat) {
  testing::GraphBuilder b(5);
  const int x = b.activation("x", {1, 6});
  const int picked = b.activation("picked", {1, 4});
  const int y = b.activation("y", {1, 4});
  ir::Tensor idx;
  idx.name = "indices";
  idx.type = DType::i32;
  idx.shape = {4};
  idx.constant = true;
  const std::vector<int32_t> rows = {5, 0, 3, 3};
  idx.data.resize(rows.size() * sizeof(int32_t));
  std::memcpy(idx.data.data(), rows.data(), idx.data.size());
  const int indices = b.g.add_tensor(std::move(idx));
  b.node(OpCode::Gather, {x, indices}, picked, ops::GatherAttrs{1});
  b.node(OpCode::UnaryMath, {picked}, y, ops::UnaryMathAttrs{UnaryFunction::exp});
  b.g.inputs = {x};
  b.g.outputs = {y};
  const CalibrationSet data =
      make_calibration_set(b.g, {testing::random_floats(16 * 6, 8)}, {"cal"});
  const ir::Graph q = quantize_model(b.g, data, {});
  const ir::Node& gather = *find_op(q, OpCode::Gather);
  EXPECT_EQ(tensor(q, gather.inputs[1]).type, DType::i32);
  EXPECT_EQ(tensor(q, gather.outputs[0]).type, DType::i8);
  const std::vector<uint8_t> test = testing::random_floats(16 * 6, 9);
  EXPECT_GT(sqnr_db(testing::as_floats(testing::run_graph(b.g, {test}, 16)),
                    testing::as_floats(testing::run_graph(q, {test}, 16))),
            25.0);
}

}  // namespace
}  // namespace tinyforge::quantize
