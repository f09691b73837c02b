// make_fuzz_seeds OUT_DIR [MODEL.tflite|MODEL.onnx ...]: writes the seed corpora scripts/fuzz
// starts from. OUT_DIR/fuzz_tflite_import/ gets small models built in code (every supported
// op) plus the given .tflite models; OUT_DIR/fuzz_onnx_import/ likewise for ONNX (the
// models of tests/onnx_seed_models.h plus the given .onnx files); OUT_DIR/fuzz_plan_validate/
// gets the plan blobs compiled from all of them. Models that fail to compile are skipped
// with a note.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "import/onnx/import_onnx.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "onnx_seed_models.h"
#include "plan/build_plan.h"
#include "tflite_model_builder.h"

namespace fs = std::filesystem;
using namespace tinyforge;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds OUT_DIR [MODEL.tflite ...]\n");
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path models_dir = out / "fuzz_tflite_import";
  const fs::path blobs_dir = out / "fuzz_plan_validate";
  fs::create_directories(models_dir);
  fs::create_directories(blobs_dir);

  const fs::path onnx_dir = out / "fuzz_onnx_import";
  fs::create_directories(onnx_dir);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> onnx_models;
  for (const auto& [name, bytes] : onnx_test::onnx_seed_models())
    onnx_models.emplace_back(name, std::vector<uint8_t>(bytes.begin(), bytes.end()));

  std::vector<std::pair<std::string, std::vector<uint8_t>>> models = {
      {"tiny_int8", testing::build_tflite(testing::tiny_int8_model())},
      {"tiny_mixed", testing::build_tflite(testing::tiny_mixed_model())}};
  try {
    for (int i = 2; i < argc; ++i) {
      const bool onnx = fs::path(argv[i]).extension() == ".onnx";
      (onnx ? onnx_models : models)
          .emplace_back(fs::path(argv[i]).stem().string(), io::read_file(argv[i]));
    }
  } catch (const tinyforge::Error& e) {
    std::fprintf(stderr, "make_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  int blobs = 0;
  for (const auto& [name, bytes] : models) {
    io::write_file((models_dir / (name + ".tflite")).string(), bytes);
    try {
      const plan::Plan p = plan::build_plan(import_tflite(bytes.data(), bytes.size(), name));
      io::write_file((blobs_dir / (name + ".tfp")).string(), emit::write_plan_blob(p));
      ++blobs;
    } catch (const tinyforge::Error& e) {
      std::fprintf(stderr, "make_fuzz_seeds: no blob for %s: %s\n", name.c_str(), e.what());
    }
  }
  for (const auto& [name, bytes] : onnx_models) {
    io::write_file((onnx_dir / (name + ".onnx")).string(), bytes);
    try {
      const plan::Plan p = plan::build_plan(import_onnx(bytes.data(), bytes.size(), name));
      io::write_file((blobs_dir / (name + "_onnx.tfp")).string(), emit::write_plan_blob(p));
      ++blobs;
    } catch (const tinyforge::Error& e) {
      std::fprintf(stderr, "make_fuzz_seeds: no blob for %s: %s\n", name.c_str(), e.what());
    }
  }
  std::printf("make_fuzz_seeds: %zu models, %d plan blobs in %s\n",
              models.size() + onnx_models.size(), blobs, out.string().c_str());
  return 0;
}
