// End-to-end check against the TFLite reference kernels' outputs in ../shared/golden:
// every model whose manifest says status "ok" is imported, compiled to a plan blob and
// run by the device runtime on the host. int8 outputs must match byte for byte; float32
// outputs within kFloatAbsTol + kFloatRelTol * |reference| (docs/numerics.md). The planned
// arena must not exceed the reference's arena_used_bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>

#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"
#include "shared_data.h"

namespace tinyforge {
namespace {

constexpr float kFloatAbsTol = 1e-5f;
constexpr float kFloatRelTol = 1e-4f;

struct Tally {
  int exact = 0, total = 0;
};

// Every model with reference outputs, by name: a model that disappears from ../shared, or
// whose reference run stops being "ok", is noticed instead of silently leaving the loop.
// (kws_ref_model_float32 has no reference outputs: TFLM cannot run it; see the hybrid test.)
const char* const kGoldenModels[] = {
    "ad01_fp32",        "ad01_int8",        "hello_world_float",
    "hello_world_int8", "kws_ref_model",    "micro_speech_quantized",
    "person_detect",    "pretrainedResnet", "pretrainedResnet_quant",
    "vww_96_float",     "vww_96_int8",
};

// Every golden model compiled for `target` (host: reference kernels; cortex-m4: the
// Armv7E-M DSP twins and in-place planning) and run by the runtime on the host.
void check_all_golden_models(const std::string& target) {
  namespace fs = std::filesystem;
  Tally int8_cases, float_cases;
  int models = 0;
  for (const std::string name : kGoldenModels) {
    SCOPED_TRACE(name);
    const fs::path dir = testing::shared_dir() / "golden" / name;
    if (!fs::exists(dir / "manifest.json")) {
      if (testing::strict_mode())
        ADD_FAILURE() << "golden model missing: " << (dir / "manifest.json");
      else
        std::printf("golden %s: %s missing, not checked\n", target.c_str(), name.c_str());
      continue;
    }
    const auto manifest = nlohmann::json::parse(io::read_file((dir / "manifest.json").string()));
    EXPECT_EQ(manifest.value("status", ""), "ok") << "the reference run of " << name << " failed";
    EXPECT_EQ(manifest.value("name", ""), name);
    if (manifest.value("status", "") != "ok") continue;
    ++models;
    const fs::path model = testing::shared_dir() / manifest["model"].get<std::string>();
    host::Compiled compiled;
    try {
      compiled = host::compile_model_file(model.string(), host::plan_options_for_target(target));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "compile failed: " << e.what();
      continue;
    }
    const uint32_t ref_arena = manifest["arena_used_bytes"];
    EXPECT_LE(compiled.plan.arena_size, ref_arena) << "planned arena larger than the reference's";

    const uint32_t cases = manifest["cases"];
    std::vector<std::vector<uint8_t>> inputs;
    for (const auto& in : manifest["inputs"])
      inputs.push_back(io::read_file((dir / in["file"].get<std::string>()).string()));
    std::vector<std::vector<uint8_t>> outputs;
    try {
      host::HostRunner runner(compiled.blob, model.string());
      outputs = runner.run(inputs, cases);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "run failed: " << e.what();
      continue;
    }
    int model_exact = 0;
    for (size_t o = 0; o < manifest["outputs"].size(); ++o) {
      const auto& spec = manifest["outputs"][o];
      const std::vector<uint8_t> expected =
          io::read_file((dir / spec["file"].get<std::string>()).string());
      ASSERT_EQ(outputs[o].size(), expected.size()) << "output " << o << " size";
      const bool is_float = spec["dtype"] == "FLOAT32";
      const size_t case_bytes = expected.size() / cases;
      for (uint32_t c = 0; c < cases; ++c) {
        const uint8_t* got = outputs[o].data() + c * case_bytes;
        const uint8_t* want = expected.data() + c * case_bytes;
        bool ok;
        if (is_float) {
          ok = true;
          for (size_t k = 0; k < case_bytes / 4; ++k) {
            float g, w;
            std::memcpy(&g, got + 4 * k, 4);
            std::memcpy(&w, want + 4 * k, 4);
            if (!(std::fabs(g - w) <= kFloatAbsTol + kFloatRelTol * std::fabs(w))) {
              ADD_FAILURE() << "case " << c << " output " << o << "[" << k << "]: " << g
                            << " vs reference " << w;
              ok = false;
              break;
            }
          }
        } else {
          ok = std::memcmp(got, want, case_bytes) == 0;
          EXPECT_TRUE(ok) << "case " << c << " output " << o << " differs from the reference";
        }
        Tally& t = is_float ? float_cases : int8_cases;
        t.total++;
        t.exact += ok;
        model_exact += ok;
      }
    }
    std::printf("golden %-10s %-24s %2d/%2zu cases ok, arena %6u B (reference %6u B)\n",
                target.c_str(), name.c_str(), model_exact, cases * manifest["outputs"].size(),
                compiled.plan.arena_size, ref_arena);
  }
  std::printf("golden %s: %d/%d cases bit-exact (int8)\n", target.c_str(), int8_cases.exact,
              int8_cases.total);
  std::printf("golden %s: %d/%d cases within tolerance (float32)\n", target.c_str(),
              float_cases.exact, float_cases.total);
  EXPECT_EQ(int8_cases.exact, int8_cases.total);
  EXPECT_EQ(float_cases.exact, float_cases.total);
  EXPECT_GT(models, 0);
  if (testing::strict_mode()) EXPECT_EQ(models, static_cast<int>(std::size(kGoldenModels)));
}

TEST(Golden, AllModelsMatchTheReference) {
  TINYFORGE_REQUIRE_SHARED("golden");
  check_all_golden_models("host");
}

TEST(Golden, AllModelsMatchTheReferenceWithCortexM4Kernels) {
  TINYFORGE_REQUIRE_SHARED("golden");
  check_all_golden_models("cortex-m4");
}

// The hybrid KWS model (int8 weights, float activations) is one the reference
// interpreter cannot allocate. We run it (the importer dequantizes its weights; README:
// "hybrid int8-weight models run as float") and compare its top-1 with the int8 model's on
// the golden inputs (dequantized). Case 0 (all features 0.0) is in the models' input range
// and must agree.
// Cases 1..15 are uniform noise over the whole int8 range (features down to -620): far
// outside the calibrated ranges, where the int8 model's activations clip and the float
// model's do not, so their agreement is printed, not required.
TEST(Golden, HybridKwsRunsAndAgreesWithInt8) {
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model_float32.tflite");
  TINYFORGE_REQUIRE_SHARED("golden/kws_ref_model/manifest.json");
  host::Compiled hybrid;
  ASSERT_NO_THROW(hybrid = host::compile_model_file(
                      (testing::shared_dir() / "models/kws_ref_model_float32.tflite").string()));
  const auto dir = testing::shared_dir() / "golden/kws_ref_model";
  const auto manifest = nlohmann::json::parse(io::read_file((dir / "manifest.json").string()));
  const float scale = manifest["inputs"][0]["scale"];
  const int zero_point = manifest["inputs"][0]["zero_point"];
  const uint32_t cases = manifest["cases"];
  const std::vector<uint8_t> q_in = io::read_file((dir / "in0.bin").string());
  const std::vector<uint8_t> q_out = io::read_file((dir / "out0.bin").string());
  std::vector<uint8_t> f_in(q_in.size() * 4);
  for (size_t i = 0; i < q_in.size(); ++i) {
    const float v = scale * (static_cast<int8_t>(q_in[i]) - zero_point);
    std::memcpy(f_in.data() + 4 * i, &v, 4);
  }
  host::HostRunner runner(hybrid.blob, "kws_ref_model_float32");
  const auto out = runner.run({f_in}, cases);
  const size_t classes = q_out.size() / cases;
  ASSERT_EQ(out[0].size(), q_out.size() * 4);
  int agree = 0;
  bool case0_agrees = false;
  for (uint32_t c = 0; c < cases; ++c) {
    size_t best_f = 0, best_q = 0;
    for (size_t k = 0; k < classes; ++k) {
      float v, b;
      std::memcpy(&v, out[0].data() + 4 * (c * classes + k), 4);
      std::memcpy(&b, out[0].data() + 4 * (c * classes + best_f), 4);
      if (v > b) best_f = k;
      if (static_cast<int8_t>(q_out[c * classes + k]) >
          static_cast<int8_t>(q_out[c * classes + best_q]))
        best_q = k;
    }
    agree += best_f == best_q;
    if (c == 0) case0_agrees = best_f == best_q;
  }
  std::printf("hybrid kws_ref_model_float32: top-1 agrees with the int8 model in %d/%u cases\n",
              agree, cases);
  EXPECT_TRUE(case0_agrees);
}

}  // namespace
}  // namespace tinyforge
