// Two MLPerf Tiny models in one Cortex-M4 firmware over one arena buffer, run alternately
// (A, B, A, B) in the emulator: every output equals the TFLite reference and the host
// runtime running that model alone, whether the models share memory (never concurrent) or
// have disjoint regions (--concurrent); the image's arena is the shared total.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "emit/firmware.h"
#include "expect_error.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"
#include "plan/memory_spec.h"
#include "plan/shared_arena.h"
#include "shared_data.h"
#include "sim/elf_reader.h"
#include "sim/emulator.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;

struct Model {
  std::string name;
  std::vector<uint8_t> blob, input, reference;
  uint32_t arena = 0;
};

// Golden case 1 (not the all-zero-point case 0) of a model in ../shared, compiled for M4.
Model load(const std::string& name) {
  const fs::path dir = testing::shared_dir() / "golden" / name;
  const auto manifest = nlohmann::json::parse(io::read_file((dir / "manifest.json").string()));
  Model m;
  m.name = name;
  host::Compiled c = host::compile_model_file(
      (testing::shared_dir() / manifest["model"].get<std::string>()).string(),
      host::plan_options_for_target("cortex-m4"));
  m.blob = c.blob;
  m.arena = c.plan.arena_size;
  const auto in = io::read_file((dir / "in0.bin").string());
  const auto out = io::read_file((dir / "out0.bin").string());
  const size_t in_bytes = in.size() / manifest["cases"].get<size_t>();
  const size_t out_bytes = out.size() / manifest["cases"].get<size_t>();
  m.input.assign(in.begin() + in_bytes, in.begin() + 2 * in_bytes);
  m.reference.assign(out.begin() + out_bytes, out.begin() + 2 * out_bytes);
  return m;
}

void quiet(const std::string&) {}

void run_alternately(const std::vector<std::vector<size_t>>& concurrent, const char* tag) {
  for (const char* name : {"kws_ref_model", "ad01_int8"})
    TINYFORGE_REQUIRE_SHARED(std::string("golden/") + name + "/manifest.json");
  if (!cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  const std::vector<Model> models = {load("kws_ref_model"), load("ad01_int8")};
  const plan::SharedArena layout =
      plan::plan_shared_arena({models[0].arena, models[1].arena}, concurrent);
  if (concurrent.empty())  // kws's region holds ad01's: the arena is the larger of the two
    ASSERT_EQ(layout.total_bytes, std::max(layout.regions[0], layout.regions[1]));
  else
    ASSERT_EQ(layout.total_bytes, layout.regions[0] + layout.regions[1]);

  const fs::path dir = fs::temp_directory_path() /
                       ("tinyforge-shared-" + std::string(tag) + "-" + std::to_string(getpid()));
  FirmwareOptions options;
  options.target = "cortex-m4";
  const FirmwareImage image = build_shared_arena_firmware({models[0].blob, models[1].blob}, layout,
                                                          options, dir.string(), quiet);
  const sim::ElfImage elf = sim::read_elf(image.elf_path);
  EXPECT_EQ(elf.symbol("tinyforge_arena")->size, layout.total_bytes);  // one buffer, shared

  sim::RunOptions run;
  run.cpu = sim::Cpu::cortex_m4;
  run.input = models[0].input;
  run.input->insert(run.input->end(), models[1].input.begin(), models[1].input.end());
  const sim::RunResult r = sim::run_firmware(elf, run);  // stops at tinyforge_done
  EXPECT_EQ(*r.arena_used, layout.total_bytes);

  size_t at = 0;
  for (uint32_t round = 0; round < kSharedArenaRounds; ++round)
    for (const Model& m : models) {
      SCOPED_TRACE(m.name + " round " + std::to_string(round));
      ASSERT_LE(at + m.reference.size(), r.output.size());
      const std::vector<uint8_t> got(r.output.begin() + at,
                                     r.output.begin() + at + m.reference.size());
      EXPECT_EQ(got, m.reference) << "differs from the TFLite reference";
      EXPECT_EQ(got, host::HostRunner(m.blob, m.name).run({m.input}, 1)[0])
          << "differs from the host runtime running the model alone";
      at += m.reference.size();
    }
  EXPECT_EQ(at, r.output.size());
  fs::remove_all(dir);
}

TEST(SharedArenaFirmware, ModelsThatNeverRunTogetherShareTheArena) {
  run_alternately({}, "shared");
}

TEST(SharedArenaFirmware, ConcurrentModelsRunInDisjointRegions) {
  run_alternately({{0, 1}}, "concurrent");
}

// One arena buffer for several models is one memory: --memory regions are refused before
// anything is read or built (the blobs here are never looked at).
TEST(SharedArenaFirmware, MemoryRegionsAreRefused) {
  plan::SharedArena layout;
  layout.offsets = {0, 0};
  layout.regions = {16, 16};
  layout.total_bytes = 16;
  FirmwareOptions options;
  options.memory = plan::parse_memory_spec("sram=64K,psram=8M:slow");
  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-shared-mem-" + std::to_string(getpid()));
  EXPECT_ERROR(build_shared_arena_firmware({{1}, {2}}, layout, options, dir.string(), quiet),
               tinyforge::Error, "--memory does not support several models over one shared arena");
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace tinyforge::emit
