// TFLite writer: the file's fields (read back with the generated flatbuffers reader), the
// padding rewrites, refusals, and the round trip export -> import -> compile -> run, which
// must give byte-identical outputs on hand-built graphs and on every golden model.
#include "export/tflite_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "host/compile.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "ir_test_graphs.h"
#include "ops/clamp.h"
#include "ops/conv.h"
#include "shared_data.h"
#include "tflite_schema_generated.h"

namespace tinyforge::tflite_export {
namespace {

const tfl::Model& parse(const std::vector<uint8_t>& bytes) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  EXPECT_TRUE(tfl::VerifyModelBuffer(verifier));
  return *tfl::GetModel(bytes.data());
}

TEST(TfliteWriter, WritesTheFormatsFields) {
  const ir::Graph g = testing::small_float_cnn();
  const std::vector<uint8_t> bytes = write_tflite(g);
  ASSERT_TRUE(flatbuffers::BufferHasIdentifier(bytes.data(), "TFL3"));
  const tfl::Model& m = parse(bytes);
  EXPECT_EQ(m.version(), 3u);
  ASSERT_EQ(m.subgraphs()->size(), 1u);
  const tfl::SubGraph& sg = *m.subgraphs()->Get(0);
  // Buffer 0 is the empty sentinel; activations point at it, constants have their own.
  EXPECT_TRUE(m.buffers()->Get(0)->data() == nullptr || m.buffers()->Get(0)->data()->size() == 0);
  for (const tfl::Tensor* t : *sg.tensors()) {
    const bool has_data = m.buffers()->Get(t->buffer())->data() != nullptr;
    EXPECT_EQ(t->buffer() != 0, has_data) << t->name()->str();
  }
  // Both opcode fields are set, each code once.
  ASSERT_GT(m.operator_codes()->size(), 0u);
  std::vector<int32_t> seen;
  for (const tfl::OperatorCode* c : *m.operator_codes()) {
    EXPECT_EQ(static_cast<int32_t>(c->deprecated_builtin_code()),
              static_cast<int32_t>(c->builtin_code()));
    EXPECT_EQ(std::count(seen.begin(), seen.end(), static_cast<int32_t>(c->builtin_code())), 0);
    seen.push_back(static_cast<int32_t>(c->builtin_code()));
  }
  // 7 IR ops, and RESHAPE carries its new shape as an int32 operand.
  ASSERT_EQ(sg.operators()->size(), 7u);
  const tfl::Operator& reshape = *sg.operators()->Get(4);
  EXPECT_EQ(m.operator_codes()->Get(reshape.opcode_index())->builtin_code(),
            tfl::BuiltinOperator::RESHAPE);
  ASSERT_EQ(reshape.inputs()->size(), 2u);
  const tfl::Tensor& shape = *sg.tensors()->Get(reshape.inputs()->Get(1));
  EXPECT_EQ(shape.type(), tfl::TensorType::INT32);
  const tfl::Operator& conv = *sg.operators()->Get(0);
  const auto* options = conv.builtin_options_as_Conv2DOptions();
  ASSERT_NE(options, nullptr);
  EXPECT_EQ(options->padding(), tfl::Padding::SAME);
  EXPECT_EQ(options->fused_activation_function(), tfl::ActivationFunctionType::RELU);
}

TEST(TfliteWriter, PerChannelQuantizationKeepsItsAxis) {
  ir::Graph g = testing::small_float_cnn();
  // Make the depthwise filter (input 1 of node 3) int8 per channel along axis 3.
  ir::Tensor& w = g.tensors[static_cast<size_t>(g.nodes[3].inputs[1])];
  w.type = DType::i8;
  w.data.assign(static_cast<size_t>(w.elements()), 1);
  w.quant.scale = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
  w.quant.zero_point.assign(6, 0);
  w.quant.axis = 3;
  const std::vector<uint8_t> bytes = write_tflite(g);
  const tfl::SubGraph& sg = *parse(bytes).subgraphs()->Get(0);
  const tfl::Tensor& t = *sg.tensors()->Get(sg.operators()->Get(3)->inputs()->Get(1));
  ASSERT_NE(t.quantization(), nullptr);
  EXPECT_EQ(t.quantization()->quantized_dimension(), 3);
  ASSERT_EQ(t.quantization()->scale()->size(), 6u);
  EXPECT_FLOAT_EQ(t.quantization()->scale()->Get(5), 0.6f);
  EXPECT_EQ(t.quantization()->zero_point()->size(), 6u);
}

TEST(TfliteWriter, RoundTripRunsBitIdentically) {
  const ir::Graph g = testing::small_float_cnn(5);
  const std::vector<uint8_t> input = testing::random_floats(3 * 128, 9);
  const std::vector<uint8_t> bytes = write_tflite(g);
  const ir::Graph back = import_tflite(bytes.data(), bytes.size(), "roundtrip.tflite");
  EXPECT_EQ(back.nodes.size(), g.nodes.size());
  EXPECT_EQ(testing::run_graph(back, {input}, 3), testing::run_graph(g, {input}, 3));
}

TEST(TfliteWriter, ExplicitPaddingBecomesSameValidOrAPadOp) {
  ir::Graph g = testing::small_float_cnn(2);
  const std::vector<uint8_t> input = testing::random_floats(2 * 128, 4);
  const std::vector<uint8_t> reference = testing::run_graph(g, {input}, 2);
  // Conv 0 with explicit 1/1/1/1 padding is SAME for a 3x3 stride-1 filter.
  ops::WindowAttrs& a = g.nodes[0].params.get<ops::ConvAttrs>().window;
  a.padding = ir::Padding::explicit_pads;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = 1;
  {
    const std::vector<uint8_t> bytes = write_tflite(g);
    const tfl::Model& m = parse(bytes);
    const tfl::SubGraph& sg = *m.subgraphs()->Get(0);
    EXPECT_EQ(sg.operators()->size(), 7u);
    EXPECT_EQ(sg.operators()->Get(0)->builtin_options_as_Conv2DOptions()->padding(),
              tfl::Padding::SAME);
    EXPECT_EQ(testing::run_graph(import_tflite(bytes.data(), bytes.size(), "same"), {input}, 2),
              reference);
  }
  // Padding only at the top/left (2, 0) keeps the shape but is neither: a PAD op in front.
  a.pad_top = a.pad_left = 2;
  a.pad_bottom = a.pad_right = 0;
  {
    const std::vector<uint8_t> bytes = write_tflite(g);
    const tfl::Model& m = parse(bytes);
    const tfl::SubGraph& sg = *m.subgraphs()->Get(0);
    ASSERT_EQ(sg.operators()->size(), 8u);
    EXPECT_EQ(m.operator_codes()->Get(sg.operators()->Get(0)->opcode_index())->builtin_code(),
              tfl::BuiltinOperator::PAD);
    EXPECT_EQ(sg.operators()->Get(1)->builtin_options_as_Conv2DOptions()->padding(),
              tfl::Padding::VALID);
    // The re-imported model (PAD op + VALID conv) runs as ours does.
    const ir::Graph back = import_tflite(bytes.data(), bytes.size(), "pad");
    EXPECT_EQ(testing::run_graph(back, {input}, 2), testing::run_graph(g, {input}, 2));
  }
}

TEST(TfliteWriter, RefusesWhatTfliteCannotExpress) {
  testing::GraphBuilder b;
  const int in = b.activation("x", {1, 4});
  const int out = b.activation("y", {1, 4});
  b.node(OpCode::Clamp, {in}, out, ops::ClampAttrs{0.0f, 3.0f});
  b.g.inputs = {in};
  b.g.outputs = {out};
  b.g.source = "clamp.onnx";
  try {
    write_tflite(b.g);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("clamp to [0, 3]"), std::string::npos) << e.what();
  }
  b.g.nodes[0].params.get<ops::ClampAttrs>().max = 6.0f;  // RELU6 is a builtin
  EXPECT_NO_THROW(write_tflite(b.g));
}

// Every golden model: export, re-import, compile and run; outputs byte-identical to the
// original's, and the plan blob itself identical.
TEST(TfliteWriter, GoldenModelsRoundTripByteIdentically) {
  TINYFORGE_REQUIRE_SHARED("golden");
  namespace fs = std::filesystem;
  int models = 0;
  for (const auto& entry : fs::directory_iterator(tinyforge::testing::shared_dir() / "golden")) {
    const fs::path manifest_path = entry.path() / "manifest.json";
    if (!fs::exists(manifest_path)) continue;
    const auto manifest = nlohmann::json::parse(io::read_file(manifest_path.string()));
    if (manifest.value("status", "") != "ok") continue;
    const std::string model =
        (tinyforge::testing::shared_dir() / manifest["model"].get<std::string>()).string();
    SCOPED_TRACE(model);
    host::Compiled original;
    try {
      original = host::compile_model_file(model);
    } catch (const tinyforge::Error&) {
      continue;  // models the core does not compile are the golden test's business
    }
    const std::vector<uint8_t> bytes = write_tflite(original.graph);
    const std::string exported =
        ::testing::TempDir() + "roundtrip_" + manifest["name"].get<std::string>() + ".tflite";
    io::write_file(exported, bytes);
    const host::Compiled back = host::compile_model_file(exported);
    EXPECT_EQ(back.blob, original.blob);
    std::vector<std::vector<uint8_t>> inputs;
    for (const auto& in : manifest["inputs"])
      inputs.push_back(io::read_file((entry.path() / in["file"].get<std::string>()).string()));
    const uint32_t cases = manifest["cases"];
    host::HostRunner a(original.blob, model), b(back.blob, exported);
    EXPECT_EQ(a.run(inputs, cases), b.run(inputs, cases));
    ++models;
  }
  EXPECT_GE(models, 8) << "expected most golden models to compile";
}

}  // namespace
}  // namespace tinyforge::tflite_export
