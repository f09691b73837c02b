// "Will it run?" in one go: the importers and the lowering name every op they refuse in
// one UnsupportedOps, not just the first (TFLite and ONNX import, lowering for a target,
// and both together through the compile path the CLI uses).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "host/compile.h"
#include "import/onnx/onnx_test_builder.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "ir/unsupported.h"
#include "plan/build_plan.h"
#include "unsupported_models.h"

namespace tinyforge {
namespace {

// The refusals of importing `bytes` as TFLite; fails the test when it imports.
std::vector<Refusal> tflite_refusals(const std::vector<uint8_t>& bytes, std::string* what) {
  try {
    import_tflite(bytes.data(), bytes.size(), "m.tflite");
  } catch (const UnsupportedOps& e) {
    if (what) *what = e.what();
    return e.refusals();
  }
  ADD_FAILURE() << "imported without UnsupportedOps";
  return {};
}

TEST(WillItRun, TfliteNamesEveryUnsupportedOpWithVersionAndDtype) {
  std::string what;
  const std::vector<Refusal> r =
      tflite_refusals(testing::build_tflite(testing::five_missing_ops_model()), &what);
  ASSERT_EQ(r.size(), 5u) << what;
  const int index[] = {0, 2, 3, 5, 6};
  const char* op[] = {"COS", "SIN", "FLOOR", "CUSTOM 'MyOp'", "ADD"};
  const int version[] = {1, 2, 1, 1, 1};
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].index, index[i]);
    EXPECT_EQ(r[i].op, op[i]);
    EXPECT_EQ(r[i].version, version[i]);
    EXPECT_EQ(r[i].dtype, "float32");
    EXPECT_EQ(r[i].stage, "import");
    EXPECT_FALSE(r[i].reason.empty());
  }
  EXPECT_NE(r[4].reason.find("dtype INT16"), std::string::npos) << r[4].reason;
  EXPECT_EQ(what.substr(0, what.find('\n')),
            "m.tflite: 5 ops are unsupported (each is listed below; replace or remove them, "
            "see docs/ops.md for what runs where)");
  EXPECT_NE(what.find("\nm.tflite: op 2 (SIN) v2 float32: no tinyforge op maps this builtin"),
            std::string::npos)
      << what;
  EXPECT_EQ(std::count(what.begin(), what.end(), '\n'), 5);
}

// Features refused inside a supported op (a fused activation) are collected the same way.
TEST(WillItRun, UnsupportedFeaturesOfMappedOpsAreAllNamed) {
  testing::ModelSpec m = testing::tiny_int8_model();
  m.ops[0].activation = tfl::ActivationFunctionType::TANH;      // CONV_2D
  m.ops[4].activation = tfl::ActivationFunctionType::SIGN_BIT;  // FULLY_CONNECTED
  std::string what;
  const std::vector<Refusal> r = tflite_refusals(testing::build_tflite(m), &what);
  ASSERT_EQ(r.size(), 2u) << what;
  EXPECT_EQ(r[0].index, 0);
  EXPECT_EQ(r[0].op, "CONV_2D");
  EXPECT_EQ(r[0].dtype, "int8");
  EXPECT_EQ(r[0].reason.rfind("fused activation 4 is not supported", 0), 0u) << r[0].reason;
  EXPECT_EQ(r[1].index, 4);
  EXPECT_EQ(r[1].op, "FULLY_CONNECTED");
}

// A 16x8 model (int16 activations, int8 weights, int64 bias): its boundary QUANTIZE and
// DEQUANTIZE, FULLY_CONNECTED, RESHAPE and CONCATENATION import; DIV (TFLite has no int16
// DIV) is named with its dtype and why.
TEST(WillItRun, SixteenByEightModelNamesEveryInt16OpStillRefused) {
  using B = tfl::BuiltinOperator;
  using T = tfl::TensorType;
  testing::ModelSpec m;
  const float s = 1.0f / 4096;  // int16 activations: symmetric, zero point 0
  m.tensors = {
      {"x", {1, 8}},
      {"x16", {1, 8}, T::INT16, {}, {s}, {0}},
      {"w", {4, 8}, T::INT8, testing::bytes_of(std::vector<int8_t>(32, 3)), {0.01f}, {0}},
      {"b", {4}, T::INT64, testing::bytes_of(std::vector<int64_t>(4, 5)), {s * 0.01f}, {0}},
      {"fc", {1, 4}, T::INT16, {}, {s}, {0}},
      {"sum", {1, 4}, T::INT16, {}, {s}, {0}},
      {"both", {1, 12}, T::INT16, {}, {s}, {0}},
      {"flat", {12}, T::INT16, {}, {s}, {0}},
      {"shape", {1}, T::INT32, testing::bytes_of(std::vector<int32_t>{12})},
      {"y", {12}},
  };
  testing::OpSpec concat{B::CONCATENATION, {5, 1}, {6}};
  concat.axis = 1;
  m.ops = {{B::QUANTIZE, {0}, {1}},    {B::FULLY_CONNECTED, {1, 2, 3}, {4}},
           {B::RELU_0_TO_1, {4}, {5}}, concat,
           {B::RESHAPE, {6, 8}, {7}},  {B::DEQUANTIZE, {7}, {9}}};
  m.inputs = {0};
  m.outputs = {9};
  std::string what;
  const std::vector<Refusal> r = tflite_refusals(testing::build_tflite(m), &what);
  ASSERT_EQ(r.size(), 1u) << what;
  EXPECT_EQ(r[0].index, 2);
  EXPECT_EQ(r[0].op, "RELU_0_TO_1");
  for (const Refusal& x : r) {
    EXPECT_EQ(x.dtype, "int16");
    EXPECT_NE(x.reason.find("dtype INT16 (7) is not supported by this op (docs/ops.md's int16x8"),
              std::string::npos)
        << x.reason;
  }
}

// ARG_MAX and ARG_MIN have no int16 kernel in TFLite or TFLite Micro: an int16 input is
// refused, and the refusal says so.
TEST(WillItRun, Int16ArgMaxAndArgMinNameTheMissingTfliteKernel) {
  using B = tfl::BuiltinOperator;
  using T = tfl::TensorType;
  for (B builtin : {B::ARG_MAX, B::ARG_MIN}) {
    testing::ModelSpec m;
    m.tensors = {{"x", {2, 5}, T::INT16, {}, {1.0f / 4096}, {0}},
                 {"axis", {1}, T::INT32, testing::bytes_of(std::vector<int32_t>{1})},
                 {"i", {2}, T::INT32}};
    m.ops = {{builtin, {0, 1}, {2}}};
    m.inputs = {0};
    m.outputs = {2};
    std::string what;
    const std::vector<Refusal> r = tflite_refusals(testing::build_tflite(m), &what);
    ASSERT_EQ(r.size(), 1u) << what;
    EXPECT_EQ(r[0].dtype, "int16");
    EXPECT_NE(r[0].reason.find("TFLite and TFLite Micro have no int16 kernel for this op"),
              std::string::npos)
        << r[0].reason;
  }
}

// A malformed file still stops at its first error, one line.
TEST(WillItRun, MalformedFileStopsAtTheFirstError) {
  testing::ModelSpec m = testing::five_missing_ops_model();
  m.tensors[4].shape = {1, -4};  // read by FLOOR (refused) and TANH
  const std::vector<uint8_t> bytes = testing::build_tflite(m);
  try {
    import_tflite(bytes.data(), bytes.size(), "m.tflite");
    FAIL() << "imported";
  } catch (const UnsupportedOps& e) {
    FAIL() << "a malformed file is not an unsupported one: " << e.what();
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("dimension 1 of shape [1,-4]"), std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(WillItRun, OneRefusalIsTheUsualOneLineError) {
  testing::ModelSpec m = testing::five_missing_ops_model();
  m.ops.resize(2);  // COS, LOGISTIC
  m.outputs = {2};
  std::string what;
  ASSERT_EQ(tflite_refusals(testing::build_tflite(m), &what).size(), 1u);
  EXPECT_EQ(what,
            "m.tflite: op 0 (COS) v1 float32: no tinyforge op maps this builtin "
            "(docs/ops.md lists those that do)");
}

TEST(WillItRun, LoweringNamesEveryNodeWithoutAKernel) {
  const std::vector<uint8_t> bytes = testing::build_tflite(testing::unlowerable_softmax_model());
  const ir::Graph g = import_tflite(bytes.data(), bytes.size(), "m.tflite");
  try {
    plan::PlanOptions options;
    options.target = "cortex-m0plus";
    plan::build_plan(g, options);
    FAIL() << "planned";
  } catch (const UnsupportedOps& e) {
    ASSERT_EQ(e.refusals().size(), 2u) << e.what();
    EXPECT_EQ(e.target(), "cortex-m0plus");
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(e.refusals()[i].index, i);
      EXPECT_EQ(e.refusals()[i].op, "Softmax");
      EXPECT_EQ(e.refusals()[i].dtype, "int8");
      EXPECT_EQ(e.refusals()[i].stage, "lowering");
      EXPECT_EQ(e.refusals()[i].reason.rfind("beta * input scale", 0), 0u) << e.what();
    }
    EXPECT_NE(std::string(e.what()).find("2 ops are unsupported on target cortex-m0plus"),
              std::string::npos);
  }
}

// Import refusals and the lowering refusals of the ops that did import, in one list.
TEST(WillItRun, CompileNamesImportAndLoweringRefusalsTogether) {
  testing::ModelSpec m = testing::unlowerable_softmax_model();
  m.tensors.push_back(testing::act_i8("g", {1, 4}, 1.0f / 256, -128));
  testing::OpSpec gelu{tfl::BuiltinOperator::GELU, {1}, {3}};
  gelu.with_options = false;
  m.ops.insert(m.ops.begin() + 1, gelu);  // op 1; the second softmax becomes op 2
  m.outputs = {3, 2};
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tinyforge-will-it-run-" + std::to_string(getpid()) + ".tflite"))
                               .string();
  io::write_file(path, testing::build_tflite(m));
  try {
    host::compile_model_file(path, host::plan_options_for_target("cortex-m4"));
    ADD_FAILURE() << "compiled";
  } catch (const UnsupportedOps& e) {
    ASSERT_EQ(e.refusals().size(), 3u) << e.what();
    EXPECT_EQ(e.refusals()[0].stage, "lowering");
    EXPECT_EQ(e.refusals()[1].op, "GELU");
    EXPECT_EQ(e.refusals()[1].stage, "import");
    EXPECT_EQ(e.refusals()[2].index, 2);
    EXPECT_EQ(e.refusals()[2].stage, "lowering");
    EXPECT_EQ(e.lines().front(),
              path +
                  ": 3 ops are unsupported on target cortex-m4 (each is listed below; "
                  "replace or remove them, see docs/ops.md for what runs where)");
  }
  std::filesystem::remove(path);
}

// Refusals of the math ops' dtypes and parameters are named like missing builtins: an int16
// NEG (no int16 NEG kernel in TFLite or TFLite Micro) and an int8 ABS whose rescale leaves
// int32, beside an int8 SQRT that runs.
TEST(WillItRun, MathOpDtypeAndParameterRefusalsAreNamed) {
  using B = tfl::BuiltinOperator;
  testing::ModelSpec m;
  m.tensors = {testing::act_i8("x", {1, 4}, 0.05f, 0),
               testing::act_i8("a", {1, 4}, 1e-6f, 0),
               testing::TensorSpec{"d", {1, 4}, tfl::TensorType::INT16, {}, {0.05f}, {0}},
               testing::act_i8("s", {1, 4}, 0.05f, 0),
               testing::act_i8("big", {1, 4}, 16.0f, 0),
               testing::TensorSpec{"x16", {1, 4}, tfl::TensorType::INT16, {}, {0.05f}, {0}}};
  m.ops = {testing::OpSpec{B::ABS, {4}, {1}}, testing::OpSpec{B::NEG, {5}, {2}},
           testing::OpSpec{B::SQRT, {0}, {3}}};
  for (testing::OpSpec& op : m.ops) op.with_options = false;
  m.inputs = {0, 4, 5};
  m.outputs = {1, 2, 3};
  std::string what;
  const std::vector<Refusal> r = tflite_refusals(testing::build_tflite(m), &what);
  ASSERT_EQ(r.size(), 2u) << what;
  EXPECT_EQ(r[0].op, "ABS");
  EXPECT_NE(r[0].reason.find("expected -31..23"), std::string::npos) << r[0].reason;
  EXPECT_EQ(r[1].op, "NEG");
  EXPECT_EQ(r[1].dtype, "int16");
  EXPECT_NE(r[1].reason.find("TFLite and TFLite Micro have no int16 NEG kernel"), std::string::npos)
      << r[1].reason;
}

// ONNX: refused nodes' outputs become unknown; nodes reading them are still checked for a
// supported op type (Foo), and skipped silently otherwise (Relu, Sigmoid).
TEST(WillItRun, OnnxNamesEveryUnsupportedNode) {
  onnx_test::ModelBuilder mb(13);
  mb.input("x", {1, 4});
  mb.node("Erf", {"x"}, {"a"}, "erf");
  mb.node("Relu", {"a"}, {"b"}, "relu");
  mb.node("Foo", {"b"}, {"c"}, "foo");
  mb.node("Sigmoid", {"c"}, {"d"}, "sigmoid");
  mb.node("Bar", {"x"}, {"e"}, "bar");
  mb.node("Tanh", {"x"}, {"f"}, "tanh");
  mb.output("d");
  mb.output("e");
  mb.output("f");
  try {
    mb.import();
    FAIL() << "imported";
  } catch (const UnsupportedOps& e) {
    const std::vector<Refusal>& r = e.refusals();
    ASSERT_EQ(r.size(), 3u) << e.what();
    EXPECT_EQ(r[0].index, 0);
    EXPECT_EQ(r[0].op, "Erf");
    EXPECT_EQ(r[0].name, "erf");
    EXPECT_EQ(r[0].version, 13);
    EXPECT_EQ(r[0].dtype, "float32");
    EXPECT_EQ(r[1].index, 2);
    EXPECT_EQ(r[1].op, "Foo");
    EXPECT_EQ(r[2].index, 4);
    EXPECT_EQ(r[2].op, "Bar");
    EXPECT_NE(std::string(e.what()).find("test.onnx: op 4 (Bar 'bar') v13 float32: unsupported: "
                                         "op; no tinyforge converter"),
              std::string::npos)
        << e.what();
    ASSERT_TRUE(e.partial());
    ASSERT_EQ(e.partial()->nodes.size(), 1u);  // the Tanh
    EXPECT_EQ(e.partial()->nodes[0].source_index, 5);
  }
}

}  // namespace
}  // namespace tinyforge
