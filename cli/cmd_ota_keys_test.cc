// `tinyforge package` options for the device's fail-closed checks, through the built CLI:
// the known-answer self-test (default on, `--self-test-input`, `--no-self-test`), the key
// id, and key rotation / revocation records, as `tinyforge inspect --json` shows them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_run.h"
#include "host/compile.h"
#include "io/files.h"
#include "ota/package_writer.h"
#include "ota/signing_keys.h"
#include "tflite_model_builder.h"
#include "tinyforge/runtime.h"

namespace tinyforge::cli {
namespace {

namespace fs = std::filesystem;

class OtaCliKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(TINYFORGE_CLI)) GTEST_SKIP() << "CLI not built: " << TINYFORGE_CLI;
    dir_ = fs::temp_directory_path() / ("tinyforge_ota_cli_keys_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string model = path("tiny.tflite");
    io::write_file(model, testing::build_tflite(testing::tiny_int8_model()));
    blob_ = host::compile_model_file(model).blob;
    io::write_file(path("tiny.tfp"), blob_);
    ASSERT_EQ(run("keygen -o '" + path("old.key") + "'").exit_code, 0);
    ASSERT_EQ(run("keygen -o '" + path("new.key") + "'").exit_code, 0);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  testing::CliRun run(const std::string& args) const { return testing::run_cli(args, dir_); }
  nlohmann::json inspect(const std::string& pkg) const {
    const testing::CliRun r = run("inspect '" + pkg + "' --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  std::string package(const std::string& extra, const std::string& out) const {
    return "package '" + path("tiny.tfp") + "' --key '" + path("old.key") +
           "' --version 1.0.0 --counter 1 " + extra + " -o '" + path(out) + "'";
  }

  fs::path dir_;
  std::vector<uint8_t> blob_;
};

TEST_F(OtaCliKeys, SelfTestKeyIdAndRotationRecords) {
  ASSERT_EQ(run(package("", "a.tfu")).exit_code, 0);
  nlohmann::json j = inspect(path("a.tfu"));
  EXPECT_EQ(j["plan_bytes"], blob_.size());
  EXPECT_GT(j["self_test_bytes"].get<int>(), 16);
  const uint32_t old_id = ota::key_id(ota::load_public_key(path("old.key.pub")));
  EXPECT_EQ(j["key_id"], old_id);

  ASSERT_EQ(run(package("--no-self-test", "b.tfu")).exit_code, 0);
  EXPECT_EQ(inspect(path("b.tfu"))["self_test_bytes"], 0);

  // A given input: the recorded block carries it, so two inputs give two blocks.
  Runtime rt;
  std::vector<uint32_t> arena(16384), aligned((blob_.size() + 3) / 4);
  std::memcpy(aligned.data(), blob_.data(), blob_.size());
  ASSERT_EQ(
      rt.init(reinterpret_cast<const uint8_t*>(aligned.data()), static_cast<uint32_t>(blob_.size()),
              reinterpret_cast<uint8_t*>(arena.data()), static_cast<uint32_t>(arena.size() * 4)),
      Status::ok);
  io::write_file(path("zeros.bin"), std::vector<uint8_t>(rt.input(0).bytes, 0));
  ASSERT_EQ(run(package("--self-test-input '" + path("zeros.bin") + "'", "c.tfu")).exit_code, 0);
  EXPECT_NE(io::read_file(path("a.tfu")), io::read_file(path("c.tfu")));
  io::write_file(path("short.bin"), std::vector<uint8_t>(3, 0));
  testing::CliRun r = run(package("--self-test-input '" + path("short.bin") + "'", "d.tfu"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("self-test: input 0 must be"), std::string::npos) << r.err;
  r = run(package("--no-self-test --self-test-input '" + path("zeros.bin") + "'", "d.tfu"));
  EXPECT_EQ(r.exit_code, 2);  // contradictory options: a usage error
  EXPECT_NE(r.err.find("--no-self-test and --self-test-input exclude each other"),
            std::string::npos)
      << r.err;

  ASSERT_EQ(run(package("--add-key '" + path("new.key.pub") + "' --revoke-key '" +
                            path("old.key.pub") + "'",
                        "rotate.tfu"))
                .exit_code,
            0);
  j = inspect(path("rotate.tfu"));
  EXPECT_EQ(j["add_key"], ota::to_hex(ota::load_public_key(path("new.key.pub")).data(), 32));
  EXPECT_EQ(j["revoke_key_id"], old_id);
  EXPECT_EQ(
      run("verify '" + path("rotate.tfu") + "' --pub '" + path("old.key.pub") + "'").exit_code, 0);
}

}  // namespace
}  // namespace tinyforge::cli
