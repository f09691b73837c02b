// Maximum / Minimum against their definition (TFLite's reference: el1 > el2 ? el1 : el2,
// el1 < el2 ? el1 : el2 on stored values, numpy broadcasting), float and int8, on random
// and extreme inputs; the invariant (one quantization for inputs and output) refused at
// import and lowering; and the quantizer keeping it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "export/tflite_writer.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "plan/lower.h"
#include "quantize/quantize_graph.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

void quantize(ir::Tensor& t, float scale, int32_t zero_point) {
  t.type = DType::i8;
  t.quant.scale = {scale};
  t.quant.zero_point = {zero_point};
}

// x [2,1,4] op z [3,1] -> y [2,3,4].
ir::Graph graph(OpCode op, DType type) {
  GraphBuilder b;
  const int x = b.activation("x", {2, 1, 4});
  const int z = b.activation("z", {3, 1});
  const int y = b.activation("y", {2, 3, 4});
  if (type == DType::i8)
    for (int t : {x, z, y}) quantize(b.g.tensors[t], 0.1f, 3);
  b.node(op, {x, z}, y);
  b.g.inputs = {x, z};
  b.g.outputs = {y};
  b.g.source = "maximum_minimum";
  b.g.check();
  return b.g;
}

template <typename T>
std::vector<T> expected(OpCode op, const std::vector<T>& x, const std::vector<T>& z) {
  std::vector<T> y;
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 3; ++i)
      for (int c = 0; c < 4; ++c) {
        const T a = x[n * 4 + c], b = z[i];
        y.push_back(op == OpCode::Maximum ? (a > b ? a : b) : (a < b ? a : b));
      }
  return y;
}

template <typename T>
std::vector<uint8_t> bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

TEST(MaximumMinimum, MatchTheDefinitionOnRandomAndExtremeInputs) {
  std::mt19937 rng(5);
  for (OpCode op : {OpCode::Maximum, OpCode::Minimum}) {
    SCOPED_TRACE(op_info(op).name);
    for (int round = 0; round < 20; ++round) {
      std::vector<int8_t> xi(8), zi(3);
      for (int8_t& v : xi) v = static_cast<int8_t>(rng());
      for (int8_t& v : zi) v = static_cast<int8_t>(rng());
      if (round == 0) xi = {-128, 127, -128, 127, 0, -1, 1, -128}, zi = {127, -128, 0};
      EXPECT_EQ(testing::run_graph(graph(op, DType::i8), {bytes(xi), bytes(zi)}, 1),
                bytes(expected(op, xi, zi)));

      std::uniform_real_distribution<float> u(-10, 10);
      std::vector<float> xf(8), zf(3);
      for (float& v : xf) v = u(rng);
      for (float& v : zf) v = u(rng);
      if (round == 0) {
        const float inf = std::numeric_limits<float>::infinity();
        xf = {inf, -inf, 0.0f, -0.0f, 1e-38f, -3.4e38f, 7.0f, -7.0f};
        zf = {-inf, 0.0f, 3.4e38f};
      }
      EXPECT_EQ(testing::run_graph(graph(op, DType::f32), {bytes(xf), bytes(zf)}, 1),
                bytes(expected(op, xf, zf)));
    }
  }
}

TEST(MaximumMinimum, RefuseInt8OperandsQuantizedDifferently) {
  ir::Graph g = graph(OpCode::Maximum, DType::i8);
  g.tensors[1].quant.scale = {0.2f};
  try {
    plan::lower_node(g, 0);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("quantized differently"), std::string::npos) << e.what();
  }
  // The same model as a TFLite file is refused at import.
  const std::vector<uint8_t> file = tflite_export::write_tflite(g);
  try {
    import_tflite(file.data(), file.size(), "max.tflite");
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected the same quantization"), std::string::npos)
        << e.what();
  }
}

TEST(MaximumMinimum, QuantizerGivesInputsAndOutputOneQuantization) {
  GraphBuilder b;
  const int x = b.activation("x", {1, 16});
  const int w = b.weights("w", {16, 16}, 0.5f);
  const int h = b.activation("h", {1, 16});
  const int y = b.activation("y", {1, 16});
  b.node(OpCode::FullyConnected, {x, w, -1}, h);
  b.node(OpCode::Minimum, {x, h}, y);  // x in [-1, 1], h in a wider range
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "min";
  quantize::CalibrationSet data;
  data.inputs = {testing::random_floats(16 * 32, 3)};
  data.cases = 32;
  const ir::Graph q = quantize::quantize_model(b.g, data, {});
  bool found = false;
  for (const ir::Node& n : q.nodes) {
    if (n.op != OpCode::Minimum) continue;
    found = true;
    const ir::Quant& out = q.tensors[n.outputs[0]].quant;
    for (int t : n.inputs) {
      EXPECT_EQ(q.tensors[t].quant.scale, out.scale);
      EXPECT_EQ(q.tensors[t].quant.zero_point, out.zero_point);
    }
  }
  EXPECT_TRUE(found);
  // And it compiles and runs.
  const std::vector<uint8_t> in = testing::random_floats(16 * 2, 4);
  EXPECT_EQ(testing::run_graph(q, {in}, 2).size(), 2u * 16 * 4);
}

}  // namespace
}  // namespace tinyforge
