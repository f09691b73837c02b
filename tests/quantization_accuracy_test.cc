// The quantization accuracy figures (bench/quantization.py prints the same table):
// - the float models with golden data quantize, calibrated on the first half of their golden
//   in0.bin cases and scored on the other half (never on the calibration data), with output
//   SQNR >= 20 dB against the float golden outputs; kws_ref_model_float32 (weight-only
//   quantized) against our own float run, on the int8 KWS golden inputs dequantized with
//   that manifest's scale and zero point, split the same way;
// - examples/digits: int8 top-1 accuracy on the held-out test set within 1.0 point of
//   float; 50% unstructured sparsity (with the least-squares refit) within 2 points.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "import/load_model.h"
#include "io/files.h"
#include "ir_test_graphs.h"
#include "prune/magnitude_prune.h"
#include "prune/reconstruct.h"
#include "quantize/layer_error.h"
#include "quantize/quantize_graph.h"
#include "shared_data.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

constexpr double kMinSqnrDb = 20.0;
// Top-1 of the int8 model equals the float model's on at least this share of held-out cases.
constexpr double kMinTop1Agreement = 0.75;

// Share of cases whose largest output element is at the same index.
double top1_agreement(const std::vector<float>& a, const std::vector<float>& b, size_t per_case) {
  const size_t cases = a.size() / per_case;
  size_t same = 0;
  for (size_t c = 0; c < cases; ++c) {
    const auto* pa = a.data() + c * per_case;
    const auto* pb = b.data() + c * per_case;
    same += std::max_element(pa, pa + per_case) - pa == std::max_element(pb, pb + per_case) - pb;
  }
  return cases ? static_cast<double>(same) / static_cast<double>(cases) : 0.0;
}

struct Outcome {
  double sqnr_db, top1;
};

// `input` holds `cases` cases of the one float input and `reference` the expected outputs.
// Quantizes `graph` calibrated on the first half of the cases, runs the int8 graph on the
// second half and compares with that half of `reference`.
Outcome quantize_and_compare(const ir::Graph& graph, const std::vector<uint8_t>& input,
                             const std::vector<float>& reference, uint32_t cases) {
  const uint32_t calibration_cases = cases / 2, held_out = cases - calibration_cases;
  EXPECT_GE(calibration_cases, 1u);
  const size_t in_case = input.size() / cases, out_case = reference.size() / cases;
  const std::vector<uint8_t> calibration(input.begin(),
                                         input.begin() + calibration_cases * in_case);
  const std::vector<uint8_t> evaluation(input.begin() + calibration_cases * in_case, input.end());
  const std::vector<float> expected(reference.begin() + calibration_cases * out_case,
                                    reference.end());
  const quantize::CalibrationSet data =
      quantize::make_calibration_set(graph, {calibration}, {"in0.bin (first half)"});
  EXPECT_EQ(data.cases, calibration_cases);
  const ir::Graph q = quantize::quantize_model(graph, data, {});
  const std::vector<float> out = testing::as_floats(testing::run_graph(q, {evaluation}, held_out));
  EXPECT_EQ(out.size(), expected.size());
  return {quantize::sqnr_db(expected, out), top1_agreement(expected, out, out_case)};
}

class GoldenFloatModels : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenFloatModels, QuantizeWithSqnrOver20dB) {
  const std::string name = GetParam();
  TINYFORGE_REQUIRE_SHARED("golden/" + name + "/manifest.json");
  const fs::path dir = tinyforge::testing::shared_dir() / "golden" / name;
  const auto manifest = nlohmann::json::parse(io::read_file((dir / "manifest.json").string()));
  const ir::Graph graph = load_model(
      (tinyforge::testing::shared_dir() / manifest["model"].get<std::string>()).string());
  const std::vector<uint8_t> input = io::read_file((dir / "in0.bin").string());
  const std::vector<float> reference =
      testing::as_floats(io::read_file((dir / "out0.bin").string()));
  const Outcome o =
      quantize_and_compare(graph, input, reference, manifest["cases"].get<uint32_t>());
  std::printf("[ quantize ] %-20s SQNR %6.2f dB  top-1 agreement %5.1f%% (held-out cases)\n",
              name.c_str(), o.sqnr_db, 100 * o.top1);
  EXPECT_GE(o.sqnr_db, kMinSqnrDb);
  EXPECT_GE(o.top1, kMinTop1Agreement);
}

INSTANTIATE_TEST_SUITE_P(Float, GoldenFloatModels,
                         ::testing::Values("pretrainedResnet", "vww_96_float", "ad01_fp32",
                                           "hello_world_float"));

TEST(GoldenFloatModels, KwsFloat32AgainstOurFloatRun) {
  TINYFORGE_REQUIRE_SHARED("golden/kws_ref_model/manifest.json");
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model_float32.tflite");
  const fs::path dir = tinyforge::testing::shared_dir() / "golden" / "kws_ref_model";
  const auto manifest = nlohmann::json::parse(io::read_file((dir / "manifest.json").string()));
  const float scale = manifest["inputs"][0]["scale"];
  const int32_t zero_point = manifest["inputs"][0]["zero_point"];
  const std::vector<uint8_t> q = io::read_file((dir / "in0.bin").string());
  std::vector<uint8_t> input(q.size() * 4);
  for (size_t i = 0; i < q.size(); ++i) {
    const float v = scale * static_cast<float>(static_cast<int8_t>(q[i]) - zero_point);
    std::memcpy(input.data() + i * 4, &v, 4);
  }
  const ir::Graph graph = load_model(
      (tinyforge::testing::shared_dir() / "models" / "kws_ref_model_float32.tflite").string());
  const uint32_t cases = manifest["cases"];
  const std::vector<float> reference =
      testing::as_floats(testing::run_graph(graph, {input}, cases));
  const Outcome o = quantize_and_compare(graph, input, reference, cases);
  std::printf("[ quantize ] %-20s SQNR %6.2f dB  top-1 agreement %5.1f%% (held-out cases)\n",
              "kws_ref_model_float32", o.sqnr_db, 100 * o.top1);
  EXPECT_GE(o.sqnr_db, kMinSqnrDb);
  EXPECT_GE(o.top1, kMinTop1Agreement);
}

// ---- examples/digits ----------------------------------------------------------------

struct Digits {
  ir::Graph graph;
  std::vector<uint8_t> calibration, test, labels;
};

fs::path digits_dir() { return fs::path(TINYFORGE_SOURCE_DIR) / "examples" / "digits"; }

bool load_digits(Digits& d) {
  const fs::path data = digits_dir() / "data";
  for (const char* f : {"calibration.bin", "test.bin", "test_labels.bin"})
    if (!fs::exists(data / f)) return false;
  d.graph = load_model((digits_dir() / "digits.onnx").string());
  d.calibration = io::read_file((data / "calibration.bin").string());
  d.test = io::read_file((data / "test.bin").string());
  d.labels = io::read_file((data / "test_labels.bin").string());
  return true;
}

double accuracy(const ir::Graph& g, const Digits& d) {
  const auto cases = static_cast<uint32_t>(d.labels.size());
  const std::vector<float> out = testing::as_floats(testing::run_graph(g, {d.test}, cases));
  const size_t classes = out.size() / cases;
  size_t right = 0;
  for (size_t c = 0; c < cases; ++c) {
    const float* p = out.data() + c * classes;
    right += static_cast<size_t>(std::max_element(p, p + classes) - p) == d.labels[c];
  }
  return 100.0 * static_cast<double>(right) / cases;
}

#define REQUIRE_DIGITS(d) \
  Digits d;               \
  if (!load_digits(d))    \
  TINYFORGE_SKIP_MISSING( \
      "examples/digits/data missing: run /usr/bin/python3 examples/digits/prepare_data.py")

TEST(DigitsExample, Int8AccuracyWithinOnePointOfFloat) {
  REQUIRE_DIGITS(d);
  const quantize::CalibrationSet data =
      quantize::make_calibration_set(d.graph, {d.calibration}, {"calibration.bin"});
  const double f = accuracy(d.graph, d);
  const double q = accuracy(quantize::quantize_model(d.graph, data, {}), d);
  std::printf("[ digits   ] float %.2f%%  int8 %.2f%%  (%zu test images)\n", f, q, d.labels.size());
  EXPECT_GT(f, 90.0) << "the shipped model should be a working classifier";
  EXPECT_GE(q, f - 1.0);
}

TEST(DigitsExample, HalfSparsityWithinTwoPointsOfFloat) {
  REQUIRE_DIGITS(d);
  const quantize::CalibrationSet data =
      quantize::make_calibration_set(d.graph, {d.calibration}, {"calibration.bin"});
  ir::Graph pruned = d.graph;
  prune::prune_unstructured(pruned, 0.5);
  EXPECT_NEAR(prune::weight_sparsity(pruned), 0.5, 0.01);
  prune::reconstruct_pruned(pruned, d.graph, data);
  EXPECT_NEAR(prune::weight_sparsity(pruned), 0.5, 0.01);
  const double f = accuracy(d.graph, d);
  const double p = accuracy(pruned, d);
  const double pq = accuracy(quantize::quantize_model(pruned, data, {}), d);
  std::printf("[ digits   ] float %.2f%%  50%% sparse %.2f%%  50%% sparse + int8 %.2f%%\n", f, p,
              pq);
  EXPECT_GE(p, f - 2.0);
  EXPECT_GE(pq, f - 3.0);  // pruning and int8 together
}

}  // namespace
}  // namespace tinyforge
