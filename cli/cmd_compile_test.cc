// `tinyforge compile A B --shared-arena` through the built CLI: the plans are the ones each
// model compiles to alone, byte for byte; the shared buffer is the larger arena (or the sum
// when concurrent); shared_arena.h and --json say where each model's region starts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_run.h"
#include "host/compile.h"
#include "io/files.h"
#include "tflite_model_builder.h"

namespace tinyforge::cli {
namespace {

namespace fs = std::filesystem;

class SharedArenaCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(TINYFORGE_CLI)) GTEST_SKIP() << "CLI not built: " << TINYFORGE_CLI;
    dir_ = fs::temp_directory_path() / ("tinyforge_shared_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    io::write_file(path("tiny.tflite"), testing::build_tflite(testing::tiny_int8_model()));
    io::write_file(path("mixed.tflite"), testing::build_tflite(testing::tiny_mixed_model()));
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  testing::CliRun run(const std::string& args) const { return testing::run_cli(args, dir_); }

  fs::path dir_;
};

uint32_t round16(uint32_t v) { return (v + 15u) & ~15u; }

TEST_F(SharedArenaCli, PlansUnchangedAndOneBufferForModelsThatNeverRunTogether) {
  const host::Compiled tiny = host::compile_model_file(path("tiny.tflite"));
  const host::Compiled mixed = host::compile_model_file(path("mixed.tflite"));
  ASSERT_NE(round16(tiny.plan.arena_size), round16(mixed.plan.arena_size));

  testing::CliRun r = run("compile '" + path("tiny.tflite") + "' '" + path("mixed.tflite") +
                          "' --shared-arena --json -o '" + path("out") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(io::read_file(path("out/tiny.tfp")), tiny.blob);
  EXPECT_EQ(io::read_file(path("out/mixed.tfp")), mixed.blob);
  const uint32_t separate = round16(tiny.plan.arena_size) + round16(mixed.plan.arena_size);
  const uint32_t larger = std::max(round16(tiny.plan.arena_size), round16(mixed.plan.arena_size));
  EXPECT_EQ(j["shared_arena_bytes"], larger);
  EXPECT_EQ(j["separate_arena_bytes"], separate);
  EXPECT_EQ(j["saving_bytes"], separate - larger);
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["name"], "tiny");
  EXPECT_EQ(j["models"][0]["arena_bytes"], tiny.plan.arena_size);
  EXPECT_EQ(j["models"][0]["arena_offset"], 0);
  EXPECT_EQ(j["models"][1]["arena_offset"], 0);
  const std::vector<uint8_t> h = io::read_file(path("out/shared_arena.h"));
  const std::string header(h.begin(), h.end());
  EXPECT_NE(header.find("#define TINYFORGE_SHARED_ARENA_BYTES " + std::to_string(larger) + "u"),
            std::string::npos)
      << header;
  EXPECT_NE(header.find("#define TINYFORGE_ARENA_BYTES_mixed " +
                        std::to_string(round16(mixed.plan.arena_size)) + "u"),
            std::string::npos)
      << header;

  r = run("compile '" + path("tiny.tflite") + "' '" + path("mixed.tflite") +
          "' --shared-arena --concurrent mixed,tiny -o '" + path("conc") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("one arena of " + std::to_string(separate) + " bytes"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(may run with mixed)"), std::string::npos) << r.out;
  // Largest first: the larger model at 0, the other right after it.
  const bool tiny_larger = round16(tiny.plan.arena_size) > round16(mixed.plan.arena_size);
  EXPECT_NE(r.out.find(std::string(tiny_larger ? "mixed" : "tiny") + ".tfp: arena " +
                       std::to_string(tiny_larger ? mixed.plan.arena_size : tiny.plan.arena_size) +
                       " bytes at offset " + std::to_string(larger)),
            std::string::npos)
      << r.out;
}

TEST_F(SharedArenaCli, BadCommandLines) {
  const std::string two = "'" + path("tiny.tflite") + "' '" + path("mixed.tflite") + "' ";
  testing::CliRun r =
      run("compile " + two + "--shared-arena --concurrent tiny -o '" + path("o1") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("name at least two models"), std::string::npos) << r.err;
  r = run("compile " + two + "--shared-arena --concurrent tiny,tiny -o '" + path("o2") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'tiny' is named twice"), std::string::npos) << r.err;
  r = run("compile " + two + "--shared-arena --emit cpp -o '" + path("o3") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--emit cpp takes one model"), std::string::npos) << r.err;
  r = run("compile '" + path("tiny.tflite") + "' --concurrent a,b -o '" + path("o4.tfp") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--concurrent goes with --shared-arena"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("o1")) || fs::exists(path("o2")) || fs::exists(path("o3")));
}

}  // namespace
}  // namespace tinyforge::cli
