// The int16 image switch (TINYFORGE_IMAGE_INT16): an image whose plan has no int16 tensor
// carries no int16 kernel paths, says so in its device profile, and refuses an int16 plan
// at init (bad_enum) instead of misreading it; an image built for an int16 plan runs it and
// gives the host runtime's bytes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "emit/device_profile.h"
#include "emit/firmware.h"
#include "emit/model_ops.h"
#include "expect_error.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"
#include "shared_data.h"
#include "sim/elf_reader.h"
#include "sim/emulator.h"
#include "sim/error.h"
#include "tflite_model_builder.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;
namespace tfl = ::tinyforge::tfl;

// AVERAGE_POOL_2D 4x4 over [1,4,4,8] of `type` (zero points 0, as TFLite's 16x8 scheme wants).
std::vector<uint8_t> pool_blob(tfl::TensorType type, const std::string& dir) {
  testing::ModelSpec m;
  m.tensors = {{"x", {1, 4, 4, 8}, type, {}, {0.05f}, {0}},
               {"y", {1, 1, 1, 8}, type, {}, {0.05f}, {0}}};
  testing::OpSpec pool{tfl::BuiltinOperator::AVERAGE_POOL_2D, {0}, {1}};
  pool.filter_h = pool.filter_w = 4;
  m.ops = {pool};
  m.inputs = {0};
  m.outputs = {1};
  const std::string path = dir + "/pool.tflite";
  io::write_file(path, testing::build_tflite(m));
  return host::compile_model_file(path).blob;
}

void quiet(const std::string&) {}

// Writes `bytes` into the loaded image at `addr` (the segment that holds it).
void patch(sim::ElfImage& elf, uint32_t addr, const std::vector<uint8_t>& bytes) {
  for (sim::ElfSegment& s : elf.segments)
    if (addr >= s.paddr && addr + bytes.size() <= s.paddr + s.data.size()) {
      std::memcpy(s.data.data() + (addr - s.paddr), bytes.data(), bytes.size());
      return;
    }
  FAIL() << "no segment holds address " << addr;
}

// Bytes of the function whose (mangled) name contains `name`; 0 when there is none.
uint32_t function_bytes(const sim::ElfImage& elf, const std::string& name) {
  for (const sim::ElfSymbolEntry& e : elf.symbol_table)
    if (e.type == sim::kSttFunc && e.name.find(name) != std::string::npos) return e.size;
  return 0;
}

TEST(FirmwareInt16, ImageWithoutInt16RefusesAnInt16Plan) {
  if (!cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  const fs::path dir = fs::temp_directory_path() / ("tinyforge-int16-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::vector<uint8_t> int8_blob = pool_blob(tfl::TensorType::INT8, dir.string());
  const std::vector<uint8_t> int16_blob = pool_blob(tfl::TensorType::INT16, dir.string());
  ASSERT_FALSE(kernel_paths(int8_blob).int16);
  ASSERT_TRUE(kernel_paths(int16_blob).int16);

  FirmwareOptions options;
  options.target = "cortex-m4";
  const FirmwareImage int8_image =
      build_firmware(int8_blob, options, (dir / "int8").string(), quiet);
  const FirmwareImage int16_image =
      build_firmware(int16_blob, options, (dir / "int16").string(), quiet);
  EXPECT_FALSE(int8_image.paths.int16);
  EXPECT_TRUE(int16_image.paths.int16);
  EXPECT_FALSE(read_device_profile(int8_image.profile_path).paths.int16);
  EXPECT_TRUE(read_device_profile(int16_image.profile_path).paths.int16);

  // The same kernel, without its int16 branch in the int8 image.
  const sim::ElfImage int16_elf = sim::read_elf(int16_image.elf_path);
  sim::ElfImage int8_elf = sim::read_elf(int8_image.elf_path);
  EXPECT_LT(function_bytes(int8_elf, "eval_AveragePool2D"),
            function_bytes(int16_elf, "eval_AveragePool2D"));

  // Each image runs its own plan as the host runtime does.
  sim::RunOptions run8;
  run8.input = testing::pattern<uint8_t>(int8_image.input_bytes, 0, 255, 3);
  EXPECT_EQ(sim::run_firmware(int8_elf, run8).output,
            host::HostRunner(int8_blob, "int8").run({*run8.input}, 1)[0]);
  sim::RunOptions run16;
  run16.input = testing::pattern<uint8_t>(int16_image.input_bytes, 0, 255, 5);
  const sim::RunResult r16 = sim::run_firmware(int16_elf, run16);
  EXPECT_EQ(r16.output, host::HostRunner(int16_blob, "int16").run({*run16.input}, 1)[0]);
  EXPECT_LT(*sim::run_firmware(int8_elf, run8).code_bytes, *r16.code_bytes);

  // The int16 plan written over the int8 image's plan (as an update would): refused at init.
  ASSERT_LE(int16_blob.size(), int8_elf.symbol("tinyforge_model_blob")->size);
  patch(int8_elf, int8_elf.symbol("tinyforge_model_blob")->value, int16_blob);
  const uint32_t size = static_cast<uint32_t>(int16_blob.size());
  std::vector<uint8_t> size_bytes(4);
  std::memcpy(size_bytes.data(), &size, 4);
  patch(int8_elf, int8_elf.symbol("tinyforge_model_blob_size")->value, size_bytes);
  // (The run stops before the measurement markers; the error quotes the firmware's line.)
  EXPECT_ERROR(sim::run_firmware(int8_elf, sim::RunOptions{}), sim::Error,
               "tinyforge: status=bad_enum step=init");
  // The device profile refuses the package before it travels.
  const std::vector<std::string> why =
      refusals_for_device(read_device_profile(int8_image.profile_path), int16_blob);
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("int16 tensors"), std::string::npos) << why[0];
  EXPECT_TRUE(
      refusals_for_device(read_device_profile(int16_image.profile_path), int16_blob).empty());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace tinyforge::emit
