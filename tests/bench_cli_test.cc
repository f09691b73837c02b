// `tinyforge bench` and `tinyforge firmware` as a script sees them: exit codes (0 ok,
// 2 malformed budget, 3 over budget naming every figure over), --json, --help.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "emit/cortex_m_targets.h"
#include "emit/cross_build.h"
#include "emit/subprocess.h"
#include "io/files.h"
#include "shared_data.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

std::string model() {
  return (testing::shared_dir() / "models" / "hello_world_int8.tflite").string();
}

emit::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), TINYFORGE_CLI);
  return emit::run_process(args);
}

class BenchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    TINYFORGE_REQUIRE_SHARED("models/hello_world_int8.tflite");
    if (!emit::cross_toolchain_available())
      TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  }
};

TEST_F(BenchCli, JsonFiguresAndOutputCheck) {
  const auto r = cli({"bench", model(), "--duty", "50", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(j["target"], "cortex-m4");
  EXPECT_EQ(j["board"], "STM32F446RE");
  EXPECT_TRUE(j["output_matches_host"].get<bool>());
  EXPECT_GT(j["instructions"].get<uint64_t>(), 100u);
  EXPECT_GE(j["cycles_estimate"].get<uint64_t>(), j["instructions"].get<uint64_t>());
  EXPECT_EQ(j["ram_bytes"].get<uint64_t>(), j["arena_used_bytes"].get<uint64_t>() +
                                                j["stack_bytes"].get<uint64_t>() +
                                                j["static_other_bytes"].get<uint64_t>());
  EXPECT_EQ(j["flash_bytes"].get<uint64_t>(),
            j["code_bytes"].get<uint64_t>() + j["model_bytes"].get<uint64_t>());
  // latency = cycles / clock; energy = uA/MHz * MHz * V * latency, the board's figures.
  const emit::Board f446 = emit::find_board("STM32F446RE");
  const double latency_us = j["cycles_estimate"].get<double>() / f446.clock_mhz;
  EXPECT_NEAR(j["latency_us"].get<double>(), latency_us, 1e-6 * latency_us);
  const double watts = f446.active_ua_per_mhz * 1e-6 * f446.clock_mhz * f446.voltage;
  EXPECT_NEAR(j["energy_uj"].get<double>(), watts * latency_us, 1e-6 * latency_us);
  // --duty 50: 50 inferences a second for an hour; the core busy 50 x latency of each second.
  const double energy_j = j["energy_uj"].get<double>() * 1e-6;
  EXPECT_EQ(j["duty"]["inferences_per_s"].get<double>(), 50.0);
  EXPECT_NEAR(j["duty"]["energy_per_hour_j"].get<double>(), 50 * 3600 * energy_j, 1e-9);
  EXPECT_NEAR(j["duty"]["busy_fraction"].get<double>(), 50 * latency_us * 1e-6, 1e-9);
  EXPECT_NEAR(j["duty"]["average_power_uw"].get<double>(), 50 * energy_j * 1e6, 1e-6);
  EXPECT_EQ(j["unverified_figures"].get<std::vector<std::string>>(), f446.unverified);
}

TEST_F(BenchCli, NamesTheBoardsUnverifiedFigures) {
  // The nRF52840's supply voltage was not checked against its datasheet (targets/boards.json).
  const emit::Board nrf = emit::find_board("nRF52840");
  ASSERT_NE(std::find(nrf.unverified.begin(), nrf.unverified.end(), "voltage"),
            nrf.unverified.end());
  const auto r = cli({"bench", model(), "--board", "nRF52840"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("unverified       voltage of nRF52840"), std::string::npos) << r.output;
}

TEST_F(BenchCli, BudgetOverrunExits3NamingEveryFigure) {
  const auto ok = cli({"bench", model(), "--budget", "ram=1M,flash=4M,latency=1s,energy=1J"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("budget           ok"), std::string::npos) << ok.output;

  // hello_world needs a few hundred bytes of RAM (arena 32 + stack + buffers): 256 is over.
  const auto over = cli({"bench", model(), "--budget", "ram=256,flash=1M,latency=1us,energy=1uJ"});
  EXPECT_EQ(over.exit_code, 3) << over.output;
  EXPECT_NE(over.output.find("over budget: ram:"), std::string::npos) << over.output;
  EXPECT_NE(over.output.find("over budget: latency:"), std::string::npos) << over.output;
  EXPECT_NE(over.output.find("over budget: energy:"), std::string::npos) << over.output;
  EXPECT_EQ(over.output.find("over budget: flash:"), std::string::npos) << over.output;

  const auto json = cli({"bench", model(), "--json", "--budget", "flash=1K"});
  EXPECT_EQ(json.exit_code, 3);
  const auto j = nlohmann::json::parse(json.output.substr(
      json.output.find('{'), json.output.rfind('}') - json.output.find('{') + 1));
  ASSERT_EQ(j["over_budget"].size(), 1u);
  EXPECT_EQ(j["over_budget"][0].get<std::string>().rfind("flash:", 0), 0u);
}

TEST_F(BenchCli, MalformedBudgetIsAUsageError) {
  for (const char* bad :
       {"ram=64Q", "speed=1", "latency=50", "energy=5ms", "ram=1K,ram=2K", "ram=0", ""}) {
    SCOPED_TRACE(bad);
    const auto r = cli({"bench", model(), "--budget", bad});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("budget"), std::string::npos) << r.output;
  }
}

TEST_F(BenchCli, ErrorsAndHelp) {
  EXPECT_EQ(cli({"bench", "--help"}).exit_code, 0);
  EXPECT_EQ(cli({"firmware", "--help"}).exit_code, 0);
  const auto missing = cli({"bench", "/nonexistent.tflite"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("/nonexistent.tflite"), std::string::npos) << missing.output;
  const auto target = cli({"bench", model(), "--target", "cortex-a53"});
  EXPECT_EQ(target.exit_code, 2);
  EXPECT_NE(target.output.find("unknown target"), std::string::npos) << target.output;
  const auto board = cli({"bench", model(), "--board", "NoSuchBoard"});
  EXPECT_EQ(board.exit_code, 1);
  EXPECT_NE(board.output.find("known: "), std::string::npos) << board.output;
}

// The firmware is a 32-bit little-endian Arm ELF executable that carries, byte for byte,
// the plan blob `tinyforge compile` makes for the same target.
TEST_F(BenchCli, FirmwareCommandWritesAnElfHoldingThePlanBlob) {
  const fs::path dir = fs::temp_directory_path() / ("tinyforge-fw-cli-" + std::to_string(getpid()));
  const auto r = cli({"firmware", model(), "--target", "cortex-m33", "-o", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto c =
      cli({"compile", model(), "--target", "cortex-m33", "-o", (dir / "m.tfp").string()});
  ASSERT_EQ(c.exit_code, 0) << c.output;
  const std::vector<uint8_t> elf = io::read_file((dir / "firmware.elf").string());
  const std::vector<uint8_t> blob = io::read_file((dir / "m.tfp").string());
  ASSERT_GT(elf.size(), 52u);
  EXPECT_EQ(std::string(elf.begin(), elf.begin() + 4),
            "\x7f"
            "ELF");
  EXPECT_EQ(elf[4], 1);                     // ELFCLASS32
  EXPECT_EQ(elf[5], 1);                     // little-endian
  EXPECT_EQ(elf[16], 2);                    // ET_EXEC
  EXPECT_EQ(elf[18] | (elf[19] << 8), 40);  // EM_ARM
  ASSERT_GT(blob.size(), 72u);
  EXPECT_NE(std::search(elf.begin(), elf.end(), blob.begin(), blob.end()), elf.end())
      << "the ELF does not contain the compiled plan blob";
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace tinyforge
