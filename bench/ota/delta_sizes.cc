// ota_delta_sizes EXAMPLES_DIR: full vs delta package sizes and transfer times for model
// updates the repo makes itself, printed as Markdown (scripts/ota_bench puts it into
// bench/results/ota.md).
//
// Base model: the digits CNN (examples/digits/digits.onnx), quantized to int8 on its
// calibration set (examples/digits/data/calibration.bin) and compiled for cortex-m4, as
// `make demo` does. Updates:
//  (a) fine-tuned: every float weight and bias moved by 5% (and 1%) of its tensor's RMS
//      (seeded normal noise), then quantized and compiled again; also the float plans;
//  (b) one layer changed: only the last layer's weights and bias redrawn;
//  (c) new architecture: a different network for the same 8x8 input (an int8 MLP
//      64-48-10 built with the test model builder), replacing the CNN.
// Every package carries its known-answer self-test, as `tinyforge package` writes it.
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/compile.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ota/delta_writer.h"
#include "ota/self_test_writer.h"
#include "ota/signing_keys.h"
#include "passes/passes.h"
#include "plan/build_plan.h"
#include "quantize/quantize_graph.h"
#include "tflite_model_builder.h"

using namespace tinyforge;

namespace {

// Links, bytes per second of application payload.
struct Link {
  const char* name;
  double bytes_per_second;
};
const Link kLinks[] = {
    {"BLE (100 kB/s)", 100e3},
    {"LoRa SF9 (1.76 kbit/s)", 1760.0 / 8},
    {"NB-IoT (26 kbit/s)", 26e3 / 8},
};

std::string seconds(double s) {
  char buf[32];
  if (s < 1)
    std::snprintf(buf, sizeof buf, "%.0f ms", s * 1e3);
  else if (s < 120)
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  else
    std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  return buf;
}

bool is_weight(const ir::Tensor& t) {
  return t.constant && t.type == DType::f32 && t.elements() > 1;
}

float rms(const ir::Tensor& t) {
  double sum = 0;
  for (int64_t i = 0; i < t.elements(); ++i) sum += double(t.at<float>(i)) * t.at<float>(i);
  return static_cast<float>(std::sqrt(sum / double(t.elements())));
}

// Moves every element of `t` by `scale` x RMS x N(0, 1); scale 0 with redraw: N(0, RMS).
void perturb(ir::Tensor& t, float scale, bool redraw, std::mt19937& rng) {
  std::normal_distribution<float> noise(0.f, 1.f);
  const float r = rms(t);
  for (int64_t i = 0; i < t.elements(); ++i) {
    float v = t.at<float>(i);
    v = redraw ? r * noise(rng) : v + scale * r * noise(rng);
    std::memcpy(t.data.data() + i * 4, &v, 4);
  }
}

std::vector<uint8_t> blob_of(ir::Graph g, const plan::PlanOptions& options) {
  passes::run_default_passes(g, {});
  return emit::write_plan_blob(plan::build_plan(g, options), options);
}

std::vector<uint8_t> int8_blob(const ir::Graph& float_graph, const std::string& calibration,
                               const plan::PlanOptions& options) {
  const quantize::CalibrationSet data =
      quantize::make_calibration_set(float_graph, {io::read_file(calibration)}, {calibration});
  return blob_of(quantize::quantize_model(float_graph, data, {}), options);
}

// The MLP of (c), int8, weights pseudo-random.
std::vector<uint8_t> mlp_blob(const plan::PlanOptions& options) {
  namespace tb = tinyforge::testing;
  using tfl = tb::tfl::BuiltinOperator;
  tb::ModelSpec m;
  m.tensors.push_back(tb::act_i8("image", {1, 64}, 0.0625f, -128));
  m.tensors.push_back(tb::TensorSpec{"fc1/w",
                                     {48, 64},
                                     tb::tfl::TensorType::INT8,
                                     tb::bytes_of(tb::pattern<int8_t>(48 * 64, -127, 127, 5)),
                                     {0.01f},
                                     {0}});
  m.tensors.push_back(tb::TensorSpec{"fc1/b",
                                     {48},
                                     tb::tfl::TensorType::INT32,
                                     tb::bytes_of(tb::pattern<int32_t>(48, -900, 900, 6)),
                                     {0.000625f},
                                     {0}});
  m.tensors.push_back(tb::act_i8("hidden", {1, 48}, 0.05f, -128));
  m.tensors.push_back(tb::TensorSpec{"fc2/w",
                                     {10, 48},
                                     tb::tfl::TensorType::INT8,
                                     tb::bytes_of(tb::pattern<int8_t>(10 * 48, -127, 127, 7)),
                                     {0.01f},
                                     {0}});
  m.tensors.push_back(tb::TensorSpec{"fc2/b",
                                     {10},
                                     tb::tfl::TensorType::INT32,
                                     tb::bytes_of(tb::pattern<int32_t>(10, -900, 900, 8)),
                                     {0.0005f},
                                     {0}});
  m.tensors.push_back(tb::act_i8("logits", {1, 10}, 0.1f, 0));
  m.ops = {tb::OpSpec{tfl::FULLY_CONNECTED, {0, 1, 2}, {3}},
           tb::OpSpec{tfl::FULLY_CONNECTED, {3, 4, 5}, {6}}};
  m.ops[0].activation = tb::tfl::ActivationFunctionType::RELU;
  m.inputs = {0};
  m.outputs = {6};
  const std::string path = "/tmp/tinyforge_delta_sizes_mlp.tflite";
  io::write_file(path, tb::build_tflite(m));
  return host::compile_model_file(path, options).blob;
}

struct Row {
  std::string update;
  size_t plan, full, delta;
};

Row measure(const std::string& what, const std::vector<uint8_t>& base,
            const std::vector<uint8_t>& next, const ota::KeyPair& keys) {
  ota::PackageSpec spec;
  spec.model_id = "digits";
  spec.version = {1, 1, 0};
  spec.security_counter = 2;
  const std::vector<uint8_t> test = ota::make_self_test(next, {});
  const size_t full = ota::write_package(spec, next, keys.secret_key, test).size();
  const size_t delta = ota::write_delta_package(spec, base, next, keys.secret_key, test).size();
  return {what, next.size(), full, delta};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ota_delta_sizes EXAMPLES_DIR\n");
    return 2;
  }
  try {
    const std::string dir = argv[1];
    const std::string calibration = dir + "/digits/data/calibration.bin";
    const plan::PlanOptions options = host::plan_options_for_target("cortex-m4");
    const ota::KeyPair keys = ota::keypair_from_seed(std::array<uint8_t, 32>{1});
    const ir::Graph base_graph = load_model(dir + "/digits/digits.onnx");

    std::mt19937 rng(2024);
    ir::Graph tuned = base_graph, tuned_less = base_graph;
    for (ir::Tensor& t : tuned.tensors)
      if (is_weight(t)) perturb(t, 0.05f, false, rng);
    for (ir::Tensor& t : tuned_less.tensors)
      if (is_weight(t)) perturb(t, 0.01f, false, rng);
    ir::Graph one_layer = base_graph;  // the last layer with weights: the classifier
    std::string changed_layer;
    for (auto node = one_layer.nodes.rbegin(); node != one_layer.nodes.rend(); ++node) {
      for (int i : node->inputs)
        if (i >= 0 && is_weight(one_layer.tensors[size_t(i)])) {
          perturb(one_layer.tensors[size_t(i)], 0.f, true, rng);
          changed_layer = node->name;
        }
      if (!changed_layer.empty()) break;
    }
    const auto base8 = int8_blob(base_graph, calibration, options);
    const auto base_f = blob_of(base_graph, options);
    std::vector<Row> rows = {
        measure("(a) fine-tuned, int8: all weights moved by 5% of their RMS", base8,
                int8_blob(tuned, calibration, options), keys),
        measure("(a) fine-tuned less, int8: all weights moved by 1% of their RMS", base8,
                int8_blob(tuned_less, calibration, options), keys),
        measure("(a) fine-tuned, float32 plan (same change, not quantized)", base_f,
                blob_of(tuned, options), keys),
        measure("(b) one layer changed, int8: weights and bias of '" + changed_layer +
                    "' (the last layer) redrawn",
                base8, int8_blob(one_layer, calibration, options), keys),
        measure("(c) new architecture, int8: CNN replaced by an MLP 64-48-10", base8,
                mlp_blob(options), keys),
        measure("(-) same plan again, int8 (lower bound: signed block + one copy)", base8, base8,
                keys),
    };

    std::printf(
        "| update (base: digits CNN, int8, %zu-byte plan) | plan bytes | full package | "
        "delta package | delta / full |",
        base8.size());
    for (const Link& l : kLinks) std::printf(" %s full / delta |", l.name);
    std::printf("\n|---|---:|---:|---:|---:|");
    for (size_t i = 0; i < sizeof kLinks / sizeof kLinks[0]; ++i) std::printf("---|");
    std::printf("\n");
    for (const Row& r : rows) {
      std::printf("| %s | %zu | %zu | %zu | %.0f%% |", r.update.c_str(), r.plan, r.full, r.delta,
                  100.0 * double(r.delta) / double(r.full));
      for (const Link& l : kLinks)
        std::printf(" %s / %s |", seconds(double(r.full) / l.bytes_per_second).c_str(),
                    seconds(double(r.delta) / l.bytes_per_second).c_str());
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ota_delta_sizes: %s\n", e.what());
    return 1;
  }
  return 0;
}
