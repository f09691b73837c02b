// float ONNX -> int8 (quantize) -> TFLite file (export) -> compile -> run: the path of
// `tinyforge quantize` followed by `tinyforge compile`, on a CNN with a 3-channel NCHW input
// (so the importer's layout Transpose is in the graph) and Sigmoid, Tanh, Mul, Concat and
// Pad. The compiled file must run bit-identically to the quantized graph it was written from.
#include <gtest/gtest.h>

#include <set>

#include "export/tflite_writer.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "import/onnx/onnx_test_builder.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "ir_test_graphs.h"
#include "quantize/quantize_graph.h"

namespace tinyforge {
namespace {

using onnx_test::attr;

ir::Graph multi_channel_cnn() {
  onnx_test::ModelBuilder mb;
  mb.input("x", {1, 3, 8, 8});
  mb.initializer("w1", {4, 3, 3, 3}, onnx_test::random_floats(4 * 27, 1, -0.4f, 0.4f));
  mb.initializer("b1", {4}, onnx_test::random_floats(4, 2, -0.1f, 0.1f));
  attr(mb.node("Conv", {"x", "w1", "b1"}, {"c1"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
  mb.node("Relu", {"c1"}, {"r1"});
  mb.node("Sigmoid", {"r1"}, {"s1"});
  mb.node("Tanh", {"c1"}, {"t1"});
  mb.node("Mul", {"s1", "t1"}, {"m1"});
  attr(mb.node("Concat", {"m1", "r1"}, {"cat"}), "axis", int64_t{1});
  mb.initializer_i64("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
  mb.node("Pad", {"cat", "pads"}, {"p1"});
  auto& pool = mb.node("MaxPool", {"p1"}, {"mp"});
  attr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
  attr(pool, "strides", std::vector<int64_t>{2, 2});
  mb.node("Flatten", {"mp"}, {"flat"});
  mb.initializer("w2", {5, 8 * 5 * 5}, onnx_test::random_floats(5 * 200, 3, -0.2f, 0.2f));
  mb.initializer("b2", {5}, onnx_test::random_floats(5, 4, -0.1f, 0.1f));
  attr(mb.node("Gemm", {"flat", "w2", "b2"}, {"y"}), "transB", int64_t{1});
  mb.output("y");
  return mb.import();
}

TEST(QuantizeExportCompile, MultiChannelOnnxCnnRunsBitIdenticallyAfterExport) {
  const ir::Graph g = multi_channel_cnn();
  const uint32_t cases = 16;
  quantize::CalibrationSet data;
  data.inputs = {testing::random_floats(3 * 8 * 8 * cases, 7, -1, 1)};
  data.cases = cases;
  const ir::Graph q = quantize::quantize_model(g, data, {});

  // The ops the TFLite reader once refused are in the quantized graph.
  std::set<OpCode> ops;
  for (const ir::Node& n : q.nodes) ops.insert(n.op);
  for (OpCode op : {OpCode::Transpose, OpCode::Logistic, OpCode::Tanh, OpCode::Mul,
                    OpCode::Concatenation})
    EXPECT_TRUE(ops.count(op)) << op_info(op).name << " is not in the quantized graph";

  const std::string path = ::testing::TempDir() + "multi_channel_cnn_int8.tflite";
  io::write_file(path, tflite_export::write_tflite(q));
  const host::Compiled compiled = host::compile_model_file(path);
  host::HostRunner runner(compiled.blob, path);
  const std::vector<std::vector<uint8_t>> input = {testing::random_floats(3 * 8 * 8 * 4, 8)};
  EXPECT_EQ(runner.run(input, 4).at(0), testing::run_graph(q, input, 4));
}

}  // namespace
}  // namespace tinyforge
