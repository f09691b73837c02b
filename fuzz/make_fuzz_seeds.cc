// make_fuzz_seeds OUT_DIR [MODEL.tflite|MODEL.onnx ...]: writes the seed corpora scripts/fuzz
// starts from. OUT_DIR/fuzz_tflite_import/ gets small models built in code (every supported
// op; the signal library's custom ops, whose FlexBuffer options reach the options parser)
// plus the given .tflite models; OUT_DIR/fuzz_onnx_import/ likewise for ONNX (the
// models of tests/onnx_seed_models.h plus the given .onnx files); OUT_DIR/fuzz_plan_validate/
// gets the plan blobs compiled from all of them for both kernel sets (reference and the
// cortex-m4 DSP twins: scratch, packed constants, in-place memory), plus one-op DSP plans
// from the twin tests' random graphs and strip-wise conv chains; OUT_DIR/fuzz_ota_package/
// gets packages signed by the harness key (fuzz/ota_harness.h) around some of those blobs,
// and delta packages against the harness base, each prefixed with the target's mode byte;
// OUT_DIR/fuzz_wav_reader/ gets small WAV files, OUT_DIR/fuzz_telemetry_record/ telemetry
// records (docs/telemetry.md).
// Plan blobs with an audio front-end section (format 1.3) are among the fuzz_plan_validate
// seeds. Models that fail to compile are skipped with a note.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "audio/frontend_spec.h"
#include "audio/wav.h"
#include "emit/plan_writer.h"
#include "fuzz/ota_harness.h"
#include "import/onnx/import_onnx.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "lstm_integer_reference.h"
#include "lstm_reference.h"
#include "onnx_seed_models.h"
#include "ota/delta_writer.h"
#include "ota/package_writer.h"
#include "plan/build_plan.h"
#include "plan/conv_chain_cases.h"
#include "plan/dsp_twin_cases.h"
#include "signal_models.h"
#include "tflite_model_builder.h"
#include "tinyforge/telemetry.h"

namespace fs = std::filesystem;
using namespace tinyforge;

namespace {

// A float LSTM with every optional part the kernel takes (input gate, peepholes, projection
// and its bias, time-major): the mutator finds its 24 operands, shapes and options.
testing::ModelSpec lstm_seed() {
  testing::LstmConfig c;
  c.batch = 2;
  c.projected = 3;
  c.peephole = true;
  c.time_major = true;
  return testing::lstm_model(c, testing::lstm_weights(c));
}

// TFLM's int8 LSTM (8x8_16, batch-major, a cell clip): its requantization table, int16 cell
// state and zero-point state reset for the mutator.
testing::ModelSpec lstm_int8_seed() {
  testing::LstmConfig c;
  c.batch = 2;
  c.cell_clip = 0.5f;
  const testing::IntLstmQuant q;
  return testing::int_lstm_model(c, testing::quantize_lstm_weights(testing::lstm_weights(c), q), q);
}

// Writes the blob of `graph` compiled with `kernels` (and `memory`, a --memory spec, and
// `frontend`, a --frontend spec for its int8 input, when given, and `optimize`) as
// OUT/name.tfp; false if refused.
bool write_blob(const ir::Graph& graph, plan::KernelSet kernels, const fs::path& path,
                std::vector<std::vector<uint8_t>>* blobs, const std::string& memory = "",
                const std::string& frontend = "",
                plan::Optimize optimize = plan::Optimize::balanced) {
  try {
    plan::PlanOptions options;
    options.kernels = kernels;
    options.optimize = optimize;
    if (!memory.empty()) options.memory = plan::parse_memory_spec(memory);
    plan::Plan plan = plan::build_plan(graph, options);
    if (!frontend.empty()) {
      const plan::PlanTensor& in = plan.tensors.at(plan.inputs.at(0));
      plan.frontend = audio::build_frontend_section(audio::parse_frontend_spec(frontend),
                                                    {in.bytes(), in.scale, in.zero_point});
    }
    blobs->push_back(emit::write_plan_blob(plan));
    io::write_file(path.string(), blobs->back());
    return true;
  } catch (const tinyforge::Error& e) {
    std::fprintf(stderr, "make_fuzz_seeds: no blob for %s: %s\n", path.filename().c_str(),
                 e.what());
    return false;
  }
}

}  // namespace

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
      {"tiny_mixed", testing::build_tflite(testing::tiny_mixed_model())},
      {"signal_chain", testing::build_tflite(testing::chain_model(testing::make_chain()))},
      // Spectral subtraction's options hold a FlexBuffer bool (clamping).
      {"signal_micro_speech",
       testing::build_tflite(testing::micro_speech_model(testing::make_chain()))},
      // As TFLM's generator writes it: int32 casts, slice, concatenation and arithmetic.
      {"signal_generated_preprocessor",
       testing::build_tflite(testing::generated_preprocessor_model(
           testing::make_chain(), testing::PreprocessorOutput::int8))},
      {"lstm", testing::build_tflite(lstm_seed())},
      {"lstm_int8", testing::build_tflite(lstm_int8_seed())}};
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
  std::vector<std::vector<uint8_t>> blobs;
  auto both_kernel_sets = [&](const ir::Graph& g, const std::string& stem) {
    write_blob(g, plan::KernelSet::reference, blobs_dir / (stem + ".tfp"), &blobs);
    write_blob(g, plan::KernelSet::armv7em, blobs_dir / (stem + "_m4.tfp"), &blobs);
    // Plan format 1.2: activations over two regions, hot constants copied at init.
    write_blob(g, plan::KernelSet::armv7em, blobs_dir / (stem + "_regions.tfp"), &blobs,
               "sram=2K,psram=8M:slow,flash=8M:xip:ws=5");
  };
  for (const auto& [name, bytes] : models) {
    io::write_file((models_dir / (name + ".tflite")).string(), bytes);
    try {
      const ir::Graph graph = import_tflite(bytes.data(), bytes.size(), name);
      if (name == "tiny_int8") {  // 128 int8 inputs: 16 frames x 8 channels; and 8 MFCCs
        write_blob(graph, plan::KernelSet::reference, blobs_dir / "tiny_frontend.tfp", &blobs, "",
                   "rate=8000,channels=8,upper=3800");
        write_blob(graph, plan::KernelSet::armv7em, blobs_dir / "tiny_mfcc.tfp", &blobs, "",
                   "rate=16000,channels=16,mfcc=8,pcan=off");
      }
      both_kernel_sets(graph, name);
    } catch (const tinyforge::Error& e) {
      std::fprintf(stderr, "make_fuzz_seeds: no blob for %s: %s\n", name.c_str(), e.what());
    }
  }
  for (const auto& [name, bytes] : onnx_models) {
    io::write_file((onnx_dir / (name + ".onnx")).string(), bytes);
    try {
      both_kernel_sets(import_onnx(bytes.data(), bytes.size(), name), name + "_onnx");
    } catch (const tinyforge::Error& e) {
      std::fprintf(stderr, "make_fuzz_seeds: no blob for %s: %s\n", name.c_str(), e.what());
    }
  }
  // Small one-op graphs of every DSP twin family (scratch, packed weights, in-place).
  plan::twin_cases::Rng rng(1);
  for (const plan::twin_cases::Family& family : plan::twin_cases::kFamilies)
    for (int i = 0; i < 3; ++i) {
      std::string stem = std::string("dsp_") + family.name + "_" + std::to_string(i);
      std::replace(stem.begin(), stem.end(), ' ', '_');
      write_blob(family.make(rng).graph, plan::KernelSet::armv7em, blobs_dir / (stem + ".tfp"),
                 &blobs);
    }
  // Strip-wise conv chains (ConvChainDsp, its scratch and in-place residual output).
  for (int i = 0; i < 4; ++i)
    write_blob(plan::twin_cases::conv_chain(rng).graph, plan::KernelSet::armv7em,
               blobs_dir / ("conv_chain_" + std::to_string(i) + ".tfp"), &blobs, "", "",
               plan::Optimize::ram);

  // OTA packages signed by the harness key around the smallest blobs; mode byte 0 (no
  // re-signing, chunk 1), 4 and 0x7c (larger chunks).
  const fs::path ota_dir = out / "fuzz_ota_package";
  fs::create_directories(ota_dir);
  std::vector<const std::vector<uint8_t>*> small;
  for (const auto& b : blobs) small.push_back(&b);
  std::sort(small.begin(), small.end(), [](auto* a, auto* b) { return a->size() < b->size(); });
  int packages = 0;
  for (size_t i = 0; i < small.size() && packages < 12; ++i) {
    if (small[i]->size() > 6 * 1024) continue;  // the harness slot holds 7.5 KiB of payload
    ota::PackageSpec spec;
    spec.model_id = "seed" + std::to_string(i);
    spec.version = {1, static_cast<uint32_t>(i), 0};
    spec.security_counter = static_cast<uint32_t>(1 + i % 3);
    spec.target = i % 4 == 3 ? "cortex-m7" : "cortex-m4";  // a few for another target
    std::vector<uint8_t> pkg = ota::write_package(spec, *small[i], fuzz::harness_keys().secret_key);
    const uint8_t mode = static_cast<uint8_t>(packages % 3 == 0 ? 0 : packages % 3 == 1 ? 4 : 0x7c);
    pkg.insert(pkg.begin(), mode);
    io::write_file((ota_dir / ("signed_" + std::to_string(packages) + ".bin")).string(), pkg);
    ++packages;
  }
  // Delta packages against the harness base (fuzz/ota_harness.h): a few bytes changed, a
  // block inserted, every byte nudged, an unrelated payload; mode 0, 4, 2 (records fixed up).
  const std::vector<uint8_t>& base = fuzz::harness_base_payload();
  std::vector<std::vector<uint8_t>> targets(4, base);
  for (size_t i = 100; i < 140; ++i) targets[0][i] ^= 0x5A;
  targets[1].insert(targets[1].begin() + 700, base.begin(), base.begin() + 96);
  for (size_t i = 0; i < targets[2].size(); ++i)
    targets[2][i] = static_cast<uint8_t>(base[i] + i % 3);
  for (size_t i = 0; i < targets[3].size(); ++i) targets[3][i] = static_cast<uint8_t>(i * 13 + 5);
  for (size_t t = 0; t < targets.size(); ++t) {
    ota::PackageSpec spec;
    spec.model_id = "delta" + std::to_string(t);
    spec.version = {1, static_cast<uint32_t>(t), 0};
    spec.security_counter = 1;
    std::vector<uint8_t> pkg =
        ota::write_delta_package(spec, base, targets[t], fuzz::harness_keys().secret_key);
    pkg.insert(pkg.begin(), static_cast<uint8_t>(t % 3 == 0 ? 0 : t % 3 == 1 ? 4 : 2));
    io::write_file((ota_dir / ("delta_" + std::to_string(t) + ".bin")).string(), pkg);
    ++packages;
  }
  const fs::path wav_dir = out / "fuzz_wav_reader";
  fs::create_directories(wav_dir);
  audio::Wav tone;
  tone.sample_rate = 16000;
  for (int i = 0; i < 64; ++i)
    tone.samples.push_back(static_cast<int16_t>((i % 16) * 2000 - 16000));
  io::write_file((wav_dir / "tone.wav").string(), audio::make_wav(tone));
  tone.samples.resize(1);
  io::write_file((wav_dir / "one_sample.wav").string(), audio::make_wav(tone));
  // Telemetry records (fuzz_telemetry_record): an empty window, and one with every part
  // filled from a small int8 input and classifier output.
  const fs::path telemetry_dir = out / "fuzz_telemetry_record";
  fs::create_directories(telemetry_dir);
  for (int busy = 0; busy < 2; ++busy) {
    telemetry::Collector collector;
    collector.init("seed-device", 3, 1, busy);
    std::vector<int8_t> values(12);
    TensorView view{};
    view.type = DType::i8;
    view.rank = 2;
    view.dims[0] = 4;
    view.dims[1] = 3;
    view.dims[2] = view.dims[3] = 1;
    view.data = values.data();
    for (int n = 0; n < 10 * busy; ++n) {
      for (size_t i = 0; i < values.size(); ++i)
        values[i] = static_cast<int8_t>(n * 29 + static_cast<int>(i) * 53);
      collector.observe_input(view);
      collector.observe_result(n % 4 ? Status::ok : Status::bad_shape, view, 900u * (n + 1));
    }
    std::vector<uint8_t> record(telemetry::kRecordBytes);
    telemetry::encode_record(collector.current(), record.data());
    io::write_file((telemetry_dir / ("record_" + std::to_string(busy) + ".bin")).string(), record);
  }
  std::printf("make_fuzz_seeds: %zu models, %zu plan blobs, %d signed packages in %s\n",
              models.size() + onnx_models.size(), blobs.size(), packages, out.string().c_str());
  return 0;
}
