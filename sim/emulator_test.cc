// The emulator runs a protocol firmware (sim/testdata/protocol_firmware.cc, built here
// with arm-none-eabi-gcc) and measures it; its figures equal m4sim's for the same ELF when
// m4sim can run. Error paths: faults, firmwares that never reach the markers or never end,
// protocol violations.
#include "sim/emulator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "emit/cross_build.h"
#include "expect_error.h"
#include "sim/error.h"
#include "sim/testdata/m4sim.h"

namespace tinyforge::sim {
namespace {

namespace fs = std::filesystem;

class EmulatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!emit::cross_toolchain_available()) return;
    dir_ = new std::string(
        (fs::temp_directory_path() / ("tinyforge-sim-test-" + std::to_string(getpid()))).string());
    fs::create_directories(*dir_);
    for (const char* variant : {"PLAIN", "FAULT", "EXIT_EARLY", "SPIN"}) {
      const std::string src = *dir_ + "/" + variant + ".cc";
      std::ofstream(src) << "#define " << variant << " 1\n#include \"" << TINYFORGE_SOURCE_DIR
                         << "/sim/testdata/protocol_firmware.cc\"\n";
      emit::ImageSpec spec;
      spec.target = emit::find_target("cortex-m4");
      spec.flash = emit::generic_flash();
      spec.ram = emit::generic_ram();
      spec.sources = {src};
      spec.link_runtime = false;
      emit::build_image(spec, *dir_ + "/obj-" + variant, elf(variant), [](const std::string&) {});
    }
  }
  static void TearDownTestSuite() {
    if (!dir_) return;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "arm-none-eabi-gcc not found (scripts/bootstrap installs it)";
  }
  static std::string elf(const std::string& variant) { return *dir_ + "/" + variant + ".elf"; }
  static std::vector<uint8_t> input() {
    std::vector<uint8_t> in(64);
    for (int i = 0; i < 64; ++i) in[i] = static_cast<uint8_t>(i * 53 + 7);
    return in;
  }
  static RunResult run(const std::string& variant, uint64_t max_instructions = 2'000'000'000) {
    RunOptions o;
    o.input = input();
    o.max_instructions = max_instructions;
    return run_firmware(read_elf(elf(variant)), o);
  }
  static std::string* dir_;
};
std::string* EmulatorTest::dir_ = nullptr;

// What protocol_firmware.cc computes, on the host.
std::vector<uint8_t> expected_output(const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(64);
  for (int i = 0; i < 64; ++i) {
    const int32_t a = in[i], b = (a * 37 + 11) & 0xFF;
    const int32_t m = a > b ? a : b;
    const int32_t q = (m + 1000) / ((i & 7) + 1);
    const int32_t f = static_cast<int32_t>(static_cast<float>(a) / 3.0f);
    out[i] = static_cast<uint8_t>(m ^ q ^ f);
  }
  return out;
}

TEST_F(EmulatorTest, MeasuresOneInference) {
  const RunResult r = run("PLAIN");
  EXPECT_EQ(r.output, expected_output(input()));
  ASSERT_TRUE(r.arena_used);
  EXPECT_EQ(*r.arena_used, 1234u);
  EXPECT_EQ(r.console,
            "protocol firmware start\n");  // the text after tinyforge_done never runs here
  // 64 iterations of a loop calling three functions: hundreds of instructions at least.
  EXPECT_GT(r.instructions, 64u * 20);
  EXPECT_LT(r.instructions, 64u * 200);
  EXPECT_GT(r.total_instructions, r.instructions);
  EXPECT_GE(r.cycles_estimate, r.instructions + 2 * r.taken_branches);
  EXPECT_GE(r.taken_branches, 64u * 3);  // 3 calls per iteration at least
  EXPECT_GT(r.stack_bytes, 0u);
  EXPECT_LT(r.stack_bytes, 1024u);
  EXPECT_GT(r.stack_region_bytes, 1u << 20);  // generic map: the stack may use all free RAM
  ASSERT_TRUE(r.model_bytes);
  EXPECT_EQ(*r.model_bytes, 256u);
  EXPECT_EQ(*r.code_bytes, r.flash_bytes - 256u);
  EXPECT_GE(r.ram_static_bytes, 128u + 4u);  // input + output + tinyforge_arena_used
}

// The same ELF on the M7 and M33 models: the same instructions, each core's own timing.
TEST_F(EmulatorTest, EachCoreHasItsTimingModel) {
  RunOptions o;
  o.input = input();
  const RunResult m4 = run_firmware(read_elf(elf("PLAIN")), o);
  for (const Cpu cpu : {Cpu::cortex_m7, Cpu::cortex_m33}) {
    o.cpu = cpu;
    const RunResult r = run_firmware(read_elf(elf("PLAIN")), o);
    EXPECT_EQ(r.timing, timing_model(cpu));
    EXPECT_EQ(r.instructions, m4.instructions);
    EXPECT_EQ(r.output, m4.output);
    // Dual issue and single-cycle loads: fewer cycles than the M4 table, never below
    // two instructions per cycle.
    EXPECT_LT(r.cycles_estimate, m4.cycles_estimate) << timing_model_name(r.timing);
    EXPECT_GE(2 * r.cycles_estimate, r.instructions) << timing_model_name(r.timing);
  }
  EXPECT_EQ(timing_model(Cpu::cortex_m4), TimingModel::cortex_m4);
}

TEST_F(EmulatorTest, IsRepeatableAndDependsOnTheInput) {
  const RunResult a = run("PLAIN"), b = run("PLAIN");
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.cycles_estimate, b.cycles_estimate);
  EXPECT_EQ(a.stack_bytes, b.stack_bytes);
  RunOptions o;
  o.input = std::vector<uint8_t>(64, 0);
  const RunResult zero = run_firmware(read_elf(elf("PLAIN")), o);
  EXPECT_EQ(zero.output, expected_output(*o.input));
}

TEST_F(EmulatorTest, WaitStatesChargeEveryAccessInTheirRangeAndNothingElse) {
  const ElfImage img = read_elf(elf("PLAIN"));
  const auto in = img.symbol("tinyforge_input"), out = img.symbol("tinyforge_output");
  ASSERT_TRUE(in && out);
  RunOptions o;
  o.input = input();
  const RunResult plain = run_firmware(img, o);
  o.wait_states = {{"input", in->value, uint64_t{in->value} + in->size, 3},
                   {"output", out->value, uint64_t{out->value} + out->size, 0},
                   {"unused", 0x30000000u, 0x30001000u, 7}};
  const RunResult waited = run_firmware(img, o);
  EXPECT_EQ(waited.output, plain.output);
  EXPECT_EQ(waited.instructions, plain.instructions);
  ASSERT_EQ(waited.region_accesses.size(), 3u);
  EXPECT_GE(waited.region_accesses[0].accesses, 64u);  // every input byte is read
  EXPECT_EQ(waited.region_accesses[0].wait_cycles, 3 * waited.region_accesses[0].accesses);
  EXPECT_GE(waited.region_accesses[1].accesses, 1u);  // counted even without wait states
  EXPECT_EQ(waited.region_accesses[1].wait_cycles, 0u);
  EXPECT_EQ(waited.region_accesses[2].accesses, 0u);
  EXPECT_EQ(waited.cycles_estimate, plain.cycles_estimate + waited.region_accesses[0].wait_cycles);
  o.wait_states = {{"empty", 0x100, 0x100, 1}};
  EXPECT_ERROR(run_firmware(img, o), Error, "wait-state range empty is empty");
}

TEST_F(EmulatorTest, EqualsM4simOnTheSameElf) {
  const std::string why = testing::m4sim_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  const RunResult r = run("PLAIN");
  const nlohmann::json m = testing::run_m4sim(elf("PLAIN"), input(), *dir_, /*verify_count=*/true);
  EXPECT_EQ(r.instructions, m["instructions"].get<uint64_t>());
  EXPECT_EQ(r.cycles_estimate, m["cycles_estimate"].get<uint64_t>());
  EXPECT_EQ(r.taken_branches, m["taken_branches"].get<uint64_t>());
  EXPECT_EQ(r.stack_bytes, m["stack_bytes"].get<uint32_t>());
  EXPECT_EQ(r.flash_bytes, m["flash_bytes"].get<uint64_t>());
  EXPECT_EQ(r.ram_static_bytes, m["ram_static_bytes"].get<uint64_t>());
  EXPECT_EQ(*r.model_bytes, m["model_bytes"].get<uint64_t>());
  EXPECT_EQ(*r.code_bytes, m["code_bytes"].get<uint64_t>());
  EXPECT_EQ(*r.arena_used, m["tinyforge_arena_used"].get<uint32_t>());
  std::string hex;
  for (uint8_t b : r.output) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  EXPECT_EQ(hex, m["output_hex"].get<std::string>());
  // The firmware does run IT-block instructions whose condition fails, and m4sim's slow
  // per-instruction recount agrees with the block counting both of us do.
  EXPECT_GT(m["it_condition_failed"].get<uint64_t>(), 0u);
  EXPECT_EQ(m["instructions_per_insn_hook"].get<uint64_t>(), r.instructions);
}

TEST_F(EmulatorTest, ReportsFaultsAndProtocolViolations) {
  try {
    run("FAULT");
    ADD_FAILURE() << "a write to unmapped memory went unnoticed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("emulation fault at pc=0x"), std::string::npos)
        << e.what();
  }
  try {
    run("EXIT_EARLY");
    ADD_FAILURE() << "a firmware that never reached the markers was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("never passed both"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("protocol firmware start"), std::string::npos) << e.what();
  }
  try {
    run("SPIN", 100000);
    ADD_FAILURE() << "an endless firmware was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than 100000 instructions"), std::string::npos)
        << e.what();
  }
  RunOptions wrong_size;
  wrong_size.input = std::vector<uint8_t>(63);
  EXPECT_ERROR(run_firmware(read_elf(elf("PLAIN")), wrong_size), Error,
               "input is 63 bytes, tinyforge_input holds 64");
}

TEST_F(EmulatorTest, RejectsElfsWithoutTheProtocolSymbols) {
  ElfImage img = read_elf(elf("PLAIN"));
  img.symbols.erase("tinyforge_bench_end");
  try {
    run_firmware(img, RunOptions{});
    ADD_FAILURE() << "accepted an ELF without tinyforge_bench_end";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tinyforge_bench_end"), std::string::npos) << e.what();
  }
  ElfImage stripped = read_elf(elf("PLAIN"));
  stripped.has_symtab = false;
  EXPECT_ERROR(run_firmware(stripped, RunOptions{}), Error, "no symbol table");
}

TEST(EmulatorCpu, NamesMapToUnicornModels) {
  EXPECT_EQ(cpu_from_name("cortex-m4"), Cpu::cortex_m4);
  EXPECT_EQ(cpu_from_name("cortex-m0plus"), Cpu::cortex_m0);
  EXPECT_EQ(cpu_from_name("cortex-m33"), Cpu::cortex_m33);
  EXPECT_ERROR(cpu_from_name("cortex-a53"), Error, "unknown emulated CPU `cortex-a53`");
}

}  // namespace
}  // namespace tinyforge::sim
