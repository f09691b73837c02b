// Firmware images of the MLPerf Tiny int8 models, run in the built-in emulator, give the
// TFLite reference outputs (../shared/golden) byte for byte -- the same bytes as the host
// runtime -- and the emulator's count equals m4sim's on the same ELF. Also: the target and
// board tables, the generated source, and what the link refuses.
#include "emit/firmware.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "expect_error.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"
#include "shared_data.h"
#include "sim/elf_reader.h"
#include "sim/emulator.h"
#include "sim/testdata/m4sim.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_((fs::temp_directory_path() / ("tinyforge-" + name + "-" + std::to_string(getpid())))
                  .string()) {
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void quiet(const std::string&) {}

std::vector<uint8_t> slice(const std::vector<uint8_t>& all, size_t index, size_t size) {
  return std::vector<uint8_t>(all.begin() + index * size, all.begin() + (index + 1) * size);
}

struct ModelCase {
  const char* name;
  const char* target;
};

class MlperfFirmware : public ::testing::TestWithParam<ModelCase> {};

TEST_P(MlperfFirmware, EmulatedOutputsEqualGoldenAndHost) {
  const ModelCase c = GetParam();
  const std::string golden = std::string("golden/") + c.name;
  TINYFORGE_REQUIRE_SHARED(golden + "/manifest.json");
  if (!cross_toolchain_available())
    GTEST_SKIP() << "arm-none-eabi-gcc not found (scripts/bootstrap installs it)";
  const fs::path dir = testing::shared_dir() / golden;
  const auto manifest = nlohmann::json::parse(io::read_file((dir / "manifest.json").string()));
  ASSERT_EQ(manifest["inputs"].size(), 1u);
  ASSERT_EQ(manifest["outputs"].size(), 1u);
  // The plan `tinyforge firmware --target` builds: the target's kernels (DSP where it has them).
  const auto blob = host::compile_model_file(
                        (testing::shared_dir() / manifest["model"].get<std::string>()).string(),
                        host::plan_options_for_target(c.target))
                        .blob;

  ScratchDir scratch(std::string("fw-") + c.name + "-" + c.target);
  FirmwareOptions options;
  options.target = c.target;
  const FirmwareImage image = build_firmware(blob, options, scratch.path(), quiet);
  const sim::ElfImage elf = sim::read_elf(image.elf_path);
  ASSERT_EQ(elf.symbol("tinyforge_input")->size, image.input_bytes);
  ASSERT_EQ(elf.symbol("tinyforge_output")->size, image.output_bytes);

  const auto inputs = io::read_file((dir / "in0.bin").string());
  const auto outputs = io::read_file((dir / "out0.bin").string());
  host::HostRunner host(blob, c.name);
  for (size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    sim::RunOptions run;
    run.cpu = sim::cpu_from_name(image.target.emulator_cpu);
    run.input = slice(inputs, k, image.input_bytes);
    const sim::RunResult r = sim::run_firmware(elf, run);
    EXPECT_EQ(r.output, slice(outputs, k, image.output_bytes))
        << "differs from the TFLite reference";
    EXPECT_EQ(r.output, host.run({*run.input}, 1)[0]) << "differs from the host runtime";
    EXPECT_EQ(*r.arena_used, image.arena_bytes);
    EXPECT_GT(r.instructions, 1000u);
    EXPECT_GT(r.stack_bytes, 0u);
    // Per-op views sized by the image's kernel set, main's steps in their own frames: the
    // deepest kernel plus a few hundred bytes (docs/design-notes.md). The deepest is
    // ConvChainDsp (ResNet-8's strip-wise blocks: it calls the conv kernel on row views of
    // its own), about 1 KiB; the others stay well under.
    EXPECT_LT(r.stack_bytes, 1100u);
    EXPECT_GE(*r.model_bytes, blob.size());
    EXPECT_LT(*r.model_bytes, blob.size() + 64);  // the blob and four size words, nothing else
  }
}

INSTANTIATE_TEST_SUITE_P(Models, MlperfFirmware,
                         ::testing::Values(ModelCase{"kws_ref_model", "cortex-m4"},
                                           ModelCase{"vww_96_int8", "cortex-m4"},
                                           ModelCase{"pretrainedResnet_quant", "cortex-m4"},
                                           ModelCase{"ad01_int8", "cortex-m4"},
                                           ModelCase{"kws_ref_model", "cortex-m0plus"},
                                           ModelCase{"ad01_int8", "cortex-m7"},
                                           ModelCase{"ad01_int8", "cortex-m33"}),
                         [](const auto& info) {
                           std::string n = std::string(info.param.name) + "_" + info.param.target;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// Same ELF, same input: our instruction count, cycle estimate and sizes equal m4sim's.
TEST(FirmwareVsM4sim, SameFiguresOnModelFirmware) {
  TINYFORGE_REQUIRE_SHARED("golden/kws_ref_model/in0.bin");
  if (!cross_toolchain_available())
    GTEST_SKIP() << "arm-none-eabi-gcc not found (scripts/bootstrap installs it)";
  const std::string why = testing::m4sim_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  struct Case {
    const char* name;
    const char* plan_target;  // "host": reference kernels; "cortex-m4": DSP kernels
  };
  for (const Case c : {Case{"hello_world_int8", "host"}, Case{"kws_ref_model", "host"},
                       Case{"kws_ref_model", "cortex-m4"}, Case{"ad01_int8", "cortex-m4"}}) {
    const std::string name = c.name;
    SCOPED_TRACE(name + " planned for " + c.plan_target);
    const auto blob =
        host::compile_model_file((testing::shared_dir() / "models" / (name + ".tflite")).string(),
                                 host::plan_options_for_target(c.plan_target))
            .blob;
    ScratchDir scratch("m4sim-" + name + "-" + c.plan_target);
    const FirmwareImage image = build_firmware(blob, FirmwareOptions{}, scratch.path(), quiet);
    sim::RunOptions run;
    run.input = slice(io::read_file((testing::shared_dir() / "golden" / name / "in0.bin").string()),
                      1, image.input_bytes);
    const sim::RunResult ours = sim::run_firmware(sim::read_elf(image.elf_path), run);
    const nlohmann::json m4 = testing::run_m4sim(image.elf_path, *run.input, scratch.path());
    EXPECT_EQ(ours.instructions, m4["instructions"].get<uint64_t>());
    EXPECT_EQ(ours.cycles_estimate, m4["cycles_estimate"].get<uint64_t>());
    EXPECT_EQ(ours.taken_branches, m4["taken_branches"].get<uint64_t>());
    EXPECT_EQ(ours.stack_bytes, m4["stack_bytes"].get<uint32_t>());
    EXPECT_EQ(ours.flash_bytes, m4["flash_bytes"].get<uint64_t>());
    EXPECT_EQ(ours.ram_static_bytes, m4["ram_static_bytes"].get<uint64_t>());
    EXPECT_EQ(*ours.model_bytes, m4["model_bytes"].get<uint64_t>());
    EXPECT_EQ(*ours.arena_used, m4["tinyforge_arena_used"].get<uint32_t>());
  }
}

TEST(CortexMTables, EveryBoardHasAKnownTargetAndSourcedFigures) {
  const auto targets = all_targets();
  std::vector<std::string> names;
  for (const auto& t : targets) names.push_back(t.name);
  for (const char* t : {"cortex-m4", "cortex-m7", "cortex-m0plus", "cortex-m33"})
    EXPECT_NE(std::find(names.begin(), names.end(), t), names.end()) << t;
  const auto boards = all_boards();
  EXPECT_GE(boards.size(), 6u);
  for (const Board& b : boards) {
    SCOPED_TRACE(b.name);
    EXPECT_NE(std::find(names.begin(), names.end(), b.target), names.end());
    EXPECT_LT(b.flash.origin, 0x20000000u) << "flash must lie below RAM (measurement protocol)";
    EXPECT_GE(b.ram.origin, 0x20000000u);
    EXPECT_GE(b.ram.bytes, 64u * 1024);
    EXPECT_GT(b.clock_mhz, 1);
  }
  for (const auto& t : targets) EXPECT_NO_THROW(find_board(t.default_board)) << t.name;
  EXPECT_ERROR(find_target("cortex-a53"), tinyforge::Error, "unknown target `cortex-a53`");
  EXPECT_ERROR(find_board("NoSuchBoard"), tinyforge::Error, "unknown board `NoSuchBoard`");
}

TEST(CortexMTables, RejectsDamagedTables) {
  ScratchDir scratch("tables");
  auto write = [&](const std::string& text) {
    const std::string p = scratch.path() + "/t.json";
    io::write_file(p, std::vector<uint8_t>(text.begin(), text.end()));
    return p;
  };
  EXPECT_ERROR(load_boards(write("{")), tinyforge::Error, "not valid JSON");
  EXPECT_ERROR(load_boards(write(R"({"boards": []})")), tinyforge::Error,
               "`boards` must be a non-empty array");
  const std::string good_board = R"({"name": "X", "board": "X board", "target": "cortex-m4",
      "flash": {"origin": "0x08000000", "bytes": 65536}, "ram": {"origin": "0x20000000", "bytes": 65536},
      "clock_mhz": 80, "active_ua_per_mhz": 100, "voltage": 3.3,
      "source": {"memory": "a", "clock_mhz": "b", "active_ua_per_mhz": "c", "voltage": "d"}})";
  EXPECT_EQ(load_boards(write("{\"boards\": [" + good_board + "]}")).at(0).flash.origin,
            0x08000000u);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string b = good_board;
    b.replace(b.find(from), from.size(), to);
    return write("{\"boards\": [" + b + "]}");
  };
  EXPECT_ERROR(load_boards(with("\"0x08000000\"", "\"0x1FFFFFFFF\"")), tinyforge::Error,
               "`origin` must be a 32-bit address");
  EXPECT_ERROR(load_boards(with("\"0x08000000\"", "\"eight\"")), tinyforge::Error,
               "`origin` must be a 32-bit address");
  EXPECT_ERROR(load_boards(with("\"clock_mhz\": 80", "\"clock_mhz\": -1")), tinyforge::Error,
               "`clock_mhz` must be a positive number");
  EXPECT_ERROR(load_boards(with("\"voltage\": \"d\"", "\"voltage\": \"\"")), tinyforge::Error,
               "`source` must cite where `voltage` comes from");  // uncited figure
  // Figures whose source could not be checked are named; only cited figures can be.
  EXPECT_EQ(
      load_boards(with("\"voltage\": 3.3,", "\"voltage\": 3.3, \"unverified\": [\"voltage\"],"))
          .at(0)
          .unverified,
      std::vector<std::string>{"voltage"});
  EXPECT_ERROR(
      load_boards(with("\"voltage\": 3.3,", "\"voltage\": 3.3, \"unverified\": [\"cost\"],")),
      tinyforge::Error, "`cost` is not a cited figure of this board");
  EXPECT_ERROR(
      load_boards(with("\"voltage\": 3.3,", "\"voltage\": 3.3, \"flash_wait_states\": 2,")),
      tinyforge::Error, "`source` must cite where `flash_wait_states` comes from");
  EXPECT_ERROR(load_boards(with("\"bytes\": 65536}, \"ram\"", "\"bytes\": 0.5}, \"ram\"")),
               tinyforge::Error, "`bytes` must be a whole number of bytes");
  EXPECT_EQ(load_targets(
                write(R"({"targets": {"m": {"cpu_flags": ["-mthumb"], "emulator_cpu": "cortex-m4",
      "default_board": "X"}}})"))
                .at(0)
                .cpu_flags.at(0),
            "-mthumb");
  EXPECT_ERROR(
      load_targets(write(R"({"targets": {"m": {"cpu_flags": [1], "emulator_cpu": "cortex-m4",
      "default_board": "X"}}})")),
      tinyforge::Error, "`cpu_flags` must be an array of strings");
  EXPECT_ERROR(
      load_targets(write(R"({"targets": {"m": {"cpu_flags": [], "default_board": "X"}}})")),
      tinyforge::Error, "`emulator_cpu` is missing");
  EXPECT_ERROR(load_targets(write(R"({"targets": {}})")), tinyforge::Error,
               "`targets` must be a non-empty object");
}

TEST(FirmwareSource, PutsTheBlobInTheModelSectionAndBuffersInNoinit) {
  const std::string s = model_data_source({0x54, 0x46, 0x50, 0x31, 0xFF}, 490, 12, 1000);
  EXPECT_NE(s.find("alignas(16) TINYFORGE_MODEL const uint8_t tinyforge_model_blob[5] = "
                   "{\n0x54,0x46,0x50,0x31,0xff,\n};"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("section(\".tinyforge.model\")"), std::string::npos);
  EXPECT_NE(s.find("TINYFORGE_NOINIT uint8_t tinyforge_input[490];"), std::string::npos);
  EXPECT_NE(s.find("TINYFORGE_NOINIT uint8_t tinyforge_output[12];"), std::string::npos);
  EXPECT_NE(s.find("uint8_t tinyforge_arena[1008];"), std::string::npos);  // rounded up to 16
  EXPECT_NE(s.find("tinyforge_model_blob_size = 5;"), std::string::npos);
}

TEST(Firmware, RefusesBadBlobsBoardsAndTooSmallRam) {
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model.tflite");
  if (!cross_toolchain_available())
    GTEST_SKIP() << "arm-none-eabi-gcc not found (scripts/bootstrap installs it)";
  ScratchDir scratch("fw-refuse");
  std::vector<uint8_t> junk(256, 0x42);
  EXPECT_ERROR(build_firmware(junk, FirmwareOptions{}, scratch.path(), quiet), tinyforge::Error,
               "invalid plan blob: bad_magic");
  const auto blob =
      host::compile_model_file((testing::shared_dir() / "models/kws_ref_model.tflite").string())
          .blob;
  FirmwareOptions wrong_core;
  wrong_core.target = "cortex-m0plus";
  wrong_core.board = "STM32F446RE";
  EXPECT_ERROR(build_firmware(blob, wrong_core, scratch.path(), quiet), tinyforge::Error,
               "has a cortex-m4 core, not cortex-m0plus");
  FirmwareOptions huge_stack;
  huge_stack.board = "STM32F446RE";
  huge_stack.min_stack = 128 * 1024;  // the board has 128 KiB of RAM in all
  try {
    build_firmware(blob, huge_stack, scratch.path(), quiet);
    ADD_FAILURE() << "linked an image whose stack cannot fit";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("RAM"), std::string::npos) << e.what();
  }
  // A board's own memory map: flash at the STM32's 0x08000000.
  FirmwareOptions board;
  board.board = "STM32F446RE";
  const FirmwareImage image = build_firmware(blob, board, scratch.path(), quiet);
  EXPECT_FALSE(image.generic_map);
  const sim::ElfImage elf = sim::read_elf(image.elf_path);
  EXPECT_EQ(elf.section(".isr_vector")->addr, 0x08000000u);
  EXPECT_EQ(elf.symbol("__StackTop")->value, 0x20000000u + 128 * 1024);
  sim::RunOptions run;
  run.input = std::vector<uint8_t>(image.input_bytes, 83);  // kws input zero point
  EXPECT_EQ(sim::run_firmware(elf, run).output.size(), 12u);
}

}  // namespace
}  // namespace tinyforge::emit

namespace tinyforge::emit {
namespace {

// Op markers: one mark per op, in order, counters non-decreasing, the last op's output read
// at its mark equal to the firmware's output; without markers nothing changes (no symbol,
// no marks) and the markers cost only a few instructions per op.
TEST(FirmwareOpMarkers, OneMarkPerOpAndTheSameOutput) {
  if (!cross_toolchain_available())
    GTEST_SKIP() << "arm-none-eabi-gcc not found (scripts/bootstrap installs it)";
  ScratchDir plain_dir("fw-plain"), marked_dir("fw-marked");
  const auto compiled =
      host::compile_model_file(std::string(TINYFORGE_SOURCE_DIR) + "/examples/digits/digits.onnx",
                               host::plan_options_for_target("cortex-m4"));
  const size_t ops = compiled.plan.ops.size();
  FirmwareOptions marked;
  marked.op_markers = true;
  const FirmwareImage a = build_firmware(compiled.blob, FirmwareOptions{}, plain_dir.path(), quiet);
  const FirmwareImage b = build_firmware(compiled.blob, marked, marked_dir.path(), quiet);
  const sim::ElfImage plain = sim::read_elf(a.elf_path), with = sim::read_elf(b.elf_path);
  EXPECT_FALSE(plain.symbol("tinyforge_op_end"));
  ASSERT_TRUE(with.symbol("tinyforge_op_end"));

  sim::RunOptions run;
  run.input = std::vector<uint8_t>(a.input_bytes, 0);
  const sim::RunResult r0 = sim::run_firmware(plain, run);
  EXPECT_TRUE(r0.op_marks.empty());

  const uint32_t arena = with.symbol("tinyforge_arena")->value;
  const plan::PlanTensor& last_out = compiled.plan.tensors[compiled.plan.ops.back().outputs[0]];
  std::vector<uint8_t> seen;
  run.on_op = [&](uint32_t op, sim::Memory& memory) {
    if (op + 1 == ops) seen = memory.read(arena + last_out.arena_offset, last_out.bytes());
  };
  const sim::RunResult r1 = sim::run_firmware(with, run);
  ASSERT_EQ(r1.op_marks.size(), ops);
  for (size_t i = 0; i < ops; ++i) {
    EXPECT_EQ(r1.op_marks[i].op_index, i);
    if (i) EXPECT_GE(r1.op_marks[i].cycles, r1.op_marks[i - 1].cycles);
  }
  EXPECT_LE(r1.op_marks.back().cycles, r1.cycles_estimate);
  EXPECT_EQ(r1.output, r0.output);
  EXPECT_EQ(seen, r1.output);
  EXPECT_GT(r1.instructions, r0.instructions);
  EXPECT_LT(r1.instructions, r0.instructions + 30 * ops) << "a few instructions per op";
}

}  // namespace
}  // namespace tinyforge::emit
