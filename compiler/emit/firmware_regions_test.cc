// End to end with memory regions: the KWS model compiled for SRAM + slow PSRAM (+ flash with
// wait states) runs on the emulated Cortex-M4 with each region's arena linked at its base, and
// gives the TFLite reference bytes and the host runtime's. The wait states add exactly the
// counted accesses x wait states to the cycles and change nothing else.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "emit/firmware.h"
#include "emit/validated_plan.h"
#include "expect_error.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"
#include "shared_data.h"
#include "sim/elf_reader.h"
#include "sim/emulator.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;

TEST(FirmwareRegions, TwoRegionsRunBitExactWithTheirWaitStates) {
  TINYFORGE_REQUIRE_SHARED("golden/kws_ref_model/in0.bin");
  if (!cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  const std::vector<plan::MemoryRegionSpec> memory = resolved_spec(
      place_memory(plan::parse_memory_spec("sram=4K,psram=8M:slow,flash=2M:xip:ws=5"), nullptr));
  plan::PlanOptions options = host::plan_options_for_target("cortex-m4");
  options.memory = memory;
  const std::vector<uint8_t> blob =
      host::compile_model_file((testing::shared_dir() / "models/kws_ref_model.tflite").string(),
                               options)
          .blob;

  FirmwareOptions without_memory;
  EXPECT_ERROR(build_firmware(blob, without_memory, "/nonexistent", [](const std::string&) {}),
               tinyforge::Error, "give the --memory it was compiled with");

  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-regions-" + std::to_string(getpid()));
  FirmwareOptions fw;
  fw.target = "cortex-m4";
  fw.memory = memory;
  const FirmwareImage image = build_firmware(blob, fw, dir.string(), [](const std::string&) {});
  const sim::ElfImage elf = sim::read_elf(image.elf_path);
  // The PSRAM arena is linked at the generic map's external RAM base.
  ASSERT_TRUE(elf.symbol("tinyforge_arena_1").has_value());
  EXPECT_EQ(elf.symbol("tinyforge_arena_1")->value, 0x60000000u);
  EXPECT_LT(elf.symbol("tinyforge_arena")->value, 0x20000000u + (4u << 20));

  const auto in = io::read_file((testing::shared_dir() / "golden/kws_ref_model/in0.bin").string());
  const auto golden =
      io::read_file((testing::shared_dir() / "golden/kws_ref_model/out0.bin").string());
  host::HostRunner host(blob, "kws");
  for (size_t k = 0; k < 2; ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    sim::RunOptions run;
    run.input = std::vector<uint8_t>(in.begin() + k * image.input_bytes,
                                     in.begin() + (k + 1) * image.input_bytes);
    const sim::RunResult plain = sim::run_firmware(elf, run);
    for (const PlacedRegion& r : image.memory)
      run.wait_states.push_back({r.spec.name, *r.spec.origin,
                                 uint64_t{*r.spec.origin} + r.spec.bytes, r.spec.wait_states});
    const sim::RunResult waited = sim::run_firmware(elf, run);
    const std::vector<uint8_t> expected(golden.begin() + k * image.output_bytes,
                                        golden.begin() + (k + 1) * image.output_bytes);
    EXPECT_EQ(waited.output, expected);
    EXPECT_EQ(waited.output, host.run({*run.input}, 1)[0]);
    EXPECT_EQ(waited.instructions, plain.instructions);
    const ValidatedPlan plan(blob, "kws");
    EXPECT_EQ(*waited.arena_used,
              Runtime::region_size(plan.data(), 0) + Runtime::region_size(plan.data(), 1));
    ASSERT_EQ(waited.region_accesses.size(), 3u);
    uint64_t wait_cycles = 0;
    for (size_t i = 0; i < 3; ++i) {
      const sim::RegionAccesses& a = waited.region_accesses[i];
      EXPECT_EQ(a.wait_cycles, a.accesses * run.wait_states[i].wait_states) << a.name;
      wait_cycles += a.wait_cycles;
    }
    EXPECT_EQ(waited.region_accesses[1].name, "psram");
    EXPECT_GT(waited.region_accesses[0].accesses, 0u);  // sram
    EXPECT_GT(waited.region_accesses[1].accesses, 0u);  // psram: the spilled activations
    EXPECT_GT(waited.region_accesses[2].accesses, 0u);  // flash: params, uncopied constants
    EXPECT_EQ(waited.cycles_estimate, plain.cycles_estimate + wait_cycles);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace tinyforge::emit
