// The firmware is a real bootable image, not only something our emulator accepts: QEMU's
// mps2-an386 (Cortex-M4) boots it from its vector table, the startup code copies .data,
// zeroes .bss and enables the FPU, the model runs, and the result line printed by
// semihosting carries the TFLite reference output. The input is placed at tinyforge_input
// by QEMU's generic loader, as a harness would write it before reset.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "emit/firmware.h"
#include "emit/subprocess.h"
#include "host/compile.h"
#include "io/files.h"
#include "shared_data.h"
#include "sim/elf_reader.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

std::string hex(const std::vector<uint8_t>& b) {
  std::string s;
  for (uint8_t x : b) s += "0123456789abcdef"[x >> 4], s += "0123456789abcdef"[x & 15];
  return s;
}

class QemuBoot : public ::testing::TestWithParam<const char*> {};

TEST_P(QemuBoot, PrintsTheReferenceOutputAndExits) {
  const std::string name = GetParam();
  TINYFORGE_REQUIRE_SHARED("golden/" + name + "/in0.bin");
  if (!emit::cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  if (!emit::program_available("qemu-system-arm"))
    TINYFORGE_SKIP_MISSING("qemu-system-arm not found (Debian's qemu-system-arm)");
  if (!emit::program_available("timeout")) TINYFORGE_SKIP_MISSING("coreutils' timeout not found");

  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-qemu-" + name + "-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto blob =
      host::compile_model_file((testing::shared_dir() / "models" / (name + ".tflite")).string(),
                               host::plan_options_for_target("cortex-m4"))
          .blob;
  const emit::FirmwareImage image =
      emit::build_firmware(blob, emit::FirmwareOptions{}, dir.string(), [](const std::string&) {});
  const auto in = io::read_file((testing::shared_dir() / "golden" / name / "in0.bin").string());
  const auto out = io::read_file((testing::shared_dir() / "golden" / name / "out0.bin").string());
  const size_t k = 1;  // a random case: not the all-zero-point one
  const std::vector<uint8_t> input(in.begin() + k * image.input_bytes,
                                   in.begin() + (k + 1) * image.input_bytes);
  const std::vector<uint8_t> expected(out.begin() + k * image.output_bytes,
                                      out.begin() + (k + 1) * image.output_bytes);
  io::write_file((dir / "input.bin").string(), input);

  const uint32_t input_address = sim::read_elf(image.elf_path).symbol("tinyforge_input")->value;
  char addr[16];
  std::snprintf(addr, sizeof addr, "0x%08x", input_address);
  const emit::ProcessResult r = emit::run_process(
      {"timeout", "120", "qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
       "-serial", "none", "-semihosting", "-kernel", image.elf_path, "-device",
       "loader,file=" + (dir / "input.bin").string() + ",addr=" + addr});
  std::error_code ec;
  fs::remove_all(dir, ec);

  EXPECT_EQ(r.exit_code, 0)
      << "QEMU did not exit cleanly by semihosting SYS_EXIT (124 = timed out):\n"
      << r.output;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(r.output, m,
                        std::regex("tinyforge: status=ok arena_used=(\\d+) output_bytes=(\\d+) "
                                   "output_crc32=([0-9a-f]{8}) output=([0-9a-f]*)")))
      << r.output;
  EXPECT_EQ(std::stoul(m[1]), image.arena_bytes);
  EXPECT_EQ(std::stoul(m[2]), image.output_bytes);
  EXPECT_EQ(m[4].str(), hex(expected)) << "QEMU's output differs from the TFLite reference";
}

INSTANTIATE_TEST_SUITE_P(Models, QemuBoot, ::testing::Values("kws_ref_model", "ad01_int8"));

}  // namespace
}  // namespace tinyforge
