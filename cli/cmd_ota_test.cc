// `tinyforge keygen / package / verify` end to end through the built CLI: exit 0 only for
// an intact package signed by the given key; 1 with one error line otherwise; 2 for usage.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_run.h"
#include "emit/device_profile.h"
#include "emit/model_ops.h"
#include "host/compile.h"
#include "io/files.h"
#include "tflite_model_builder.h"

namespace tinyforge::cli {
namespace {

namespace fs = std::filesystem;

using testing::CliRun;

class OtaCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(TINYFORGE_CLI)) GTEST_SKIP() << "CLI not built: " << TINYFORGE_CLI;
    dir_ = fs::temp_directory_path() / ("tinyforge_ota_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string model = path("tiny.tflite");
    io::write_file(model, testing::build_tflite(testing::tiny_int8_model()));
    io::write_file(path("tiny.tfp"), host::compile_model_file(model).blob);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  CliRun run(const std::string& args) const { return testing::run_cli(args, dir_); }

  static void expect_one_error_line(const CliRun& r, const std::string& needle) {
    EXPECT_EQ(r.err.rfind("tinyforge: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "expected one line: " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }

  fs::path dir_;
};

TEST_F(OtaCli, KeygenPackageVerifyRoundTrip) {
  const std::string key = path("dev.key"), other = path("other.key"), pkg = path("u.tfu");
  ASSERT_EQ(run("keygen -o '" + key + "'").exit_code, 0);
  ASSERT_TRUE(fs::exists(key) && fs::exists(key + ".pub"));
  CliRun r = run("keygen -o '" + key + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "already exists");
  ASSERT_EQ(run("keygen -o '" + other + "'").exit_code, 0);

  r = run("package '" + path("tiny.tfp") + "' --key '" + key +
          "' --version 1.4.2 --counter 7 --model-id kws -o '" + pkg + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run("verify '" + pkg + "' --pub '" + key + ".pub'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kws 1.4.2 counter 7 target cortex-m4"), std::string::npos) << r.out;

  r = run("verify '" + pkg + "' --pub '" + other + ".pub'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "bad_signature");

  std::vector<uint8_t> bytes = io::read_file(pkg);
  const std::vector<uint8_t> original = bytes;
  for (size_t at :
       {size_t{20}, bytes.size() / 2, bytes.size() - 1}) {  // manifest, payload, payload
    bytes = original;
    bytes[at] ^= 0x04;
    io::write_file(path("tampered.tfu"), bytes);
    r = run("verify '" + path("tampered.tfu") + "' --pub '" + key + ".pub'");
    EXPECT_EQ(r.exit_code, 1) << "byte " << at;
    expect_one_error_line(r, "tampered.tfu: rejected: ");
  }
  bytes = original;
  bytes.pop_back();
  io::write_file(path("short.tfu"), bytes);
  r = run("verify '" + path("short.tfu") + "' --pub '" + key + ".pub'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "truncated");

  ASSERT_EQ(run("keygen --force -o '" + key + "'").exit_code, 0);  // a new key: old package fails
  EXPECT_EQ(run("verify '" + pkg + "' --pub '" + key + ".pub'").exit_code, 1);
}

TEST_F(OtaCli, BadArgumentsAndInputs) {
  const std::string key = path("k");
  ASSERT_EQ(run("keygen -o '" + key + "'").exit_code, 0);
  EXPECT_EQ(run("verify").exit_code, 2);
  EXPECT_EQ(run("package '" + path("tiny.tfp") + "' --key '" + key + "' -o x.tfu").exit_code, 2);
  EXPECT_EQ(run("package '" + path("tiny.tfp") + "' --key '" + key +
                "' --version 1.0.0 --counter -3 -o '" + path("x.tfu") + "'")
                .exit_code,
            2);
  CliRun r = run("package '" + path("tiny.tfp") + "' --key '" + key +
                 "' --version 1.0 --counter 1 -o '" + path("x.tfu") + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "MAJOR.MINOR.PATCH");
  r = run("package '" + key + ".pub' --key '" + key + "' --version 1.0.0 --counter 1 -o '" +
          path("x.tfu") + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "not a valid plan blob");
  r = run("package '" + path("tiny.tfp") + "' --key '" + key +
          ".pub' --version 1.0.0 --counter 1 -o '" + path("x.tfu") + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "secret");
  r = run("verify '" + path("tiny.tfp") + "' --pub '" + key + ".pub'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "bad_magic");
  for (const char* cmd : {"keygen", "package", "verify"}) {
    r = run(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd;
  }
}

// --base writes a delta package against the base plan: smaller, verified, inspectable;
// --full keeps the whole plan; a base that is not a plan blob is refused.
TEST_F(OtaCli, PackageWithBaseWritesADelta) {
  const std::string key = path("dev.key");
  ASSERT_EQ(run("keygen -o '" + key + "'").exit_code, 0);
  const std::string tiny = path("tiny.tfp");
  // The same model with one int8 weight changed: same architecture, new weights.
  testing::ModelSpec tuned = testing::tiny_int8_model();
  for (auto& t : tuned.tensors)
    if (t.type == testing::tfl::TensorType::INT8 && !t.data.empty()) {
      t.data[0] = static_cast<uint8_t>(t.data[0] ^ 1);
      break;
    }
  io::write_file(path("tuned.tflite"), testing::build_tflite(tuned));
  io::write_file(path("tuned.tfp"), host::compile_model_file(path("tuned.tflite")).blob);
  const std::string common = "--key '" + key + "' --version 1.1.0 --counter 2 --json ";
  CliRun r = run("package '" + path("tuned.tfp") + "' " + common + "--base '" + tiny + "' -o '" +
                 path("d.tfu") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"delta\": true"), std::string::npos) << r.out;
  r = run("package '" + path("tuned.tfp") + "' " + common + "--base '" + tiny + "' --full -o '" +
          path("f.tfu") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(fs::file_size(path("d.tfu")), fs::file_size(path("f.tfu")));
  r = run("verify '" + path("d.tfu") + "' --pub '" + key + ".pub' --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"delta_bytes\""), std::string::npos) << r.out;
  r = run("inspect '" + path("d.tfu") + "' --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"payload_hash_matches\": true"), std::string::npos) << r.out;
  r = run("package '" + path("tuned.tfp") + "' " + common + "--base '" + key + "' -o '" +
          path("x.tfu") + "'");
  EXPECT_EQ(r.exit_code, 1);
  r = run("package '" + path("tuned.tfp") + "' " + common + "--full -o '" + path("y.tfu") + "'");
  EXPECT_EQ(r.exit_code, 2);
}

// --device PROFILE: package and verify refuse a plan that needs a kernel the image lacks,
// naming every missing op, and a package for another target; a delta package is checked on
// the plan it rebuilds from --base.
TEST_F(OtaCli, DeviceProfileRefusesMissingKernels) {
  const std::string key = path("dev.key");
  ASSERT_EQ(run("keygen -o '" + key + "'").exit_code, 0);
  io::write_file(path("mixed.tflite"), testing::build_tflite(testing::tiny_mixed_model()));
  io::write_file(path("mixed.tfp"), host::compile_model_file(path("mixed.tflite")).blob);
  const std::set<OpCode> tiny_ops = emit::ops_in_blob(io::read_file(path("tiny.tfp")));
  auto profile = [&](const std::string& name, const std::string& target,
                     const std::set<OpCode>& ops) {
    const std::string text = emit::device_profile_json(emit::device_profile(target, ops));
    io::write_file(path(name), std::vector<uint8_t>(text.begin(), text.end()));
    return path(name);
  };
  const std::string tiny_device = profile("tiny.json", "cortex-m4", tiny_ops);
  const std::string full_device =
      profile("all.json", "cortex-m4", emit::resolve_kernels("all", "cortex-m4", {}));
  const std::string m7_device = profile("m7.json", "cortex-m7", tiny_ops);
  const std::string common = "--key '" + key + "' --version 1.0.0 --counter 1 ";

  CliRun r = run("package '" + path("tiny.tfp") + "' " + common + "--device '" + tiny_device +
                 "' --json -o '" + path("tiny.tfu") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"target\": \"cortex-m4\""), std::string::npos) << r.out;
  r = run("package '" + path("tiny.tfp") + "' " + common + "--device '" + m7_device + "' -o '" +
          path("m7.tfu") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;  // the target comes from the profile
  EXPECT_NE(r.out.find("target cortex-m7"), std::string::npos) << r.out;

  r = run("package '" + path("mixed.tfp") + "' " + common + "--device '" + tiny_device + "' -o '" +
          path("refused.tfu") + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r,
                        "cannot run it: the device's image has no kernel for MaxPool2D, Add, "
                        "Quantize, Dequantize");
  EXPECT_FALSE(fs::exists(path("refused.tfu")));
  r = run("package '" + path("tiny.tfp") + "' " + common + "--device '" + tiny_device +
          "' --target cortex-m7 -o '" + path("x.tfu") + "'");
  EXPECT_EQ(r.exit_code, 2);
  expect_one_error_line(r, "is a cortex-m4");

  ASSERT_EQ(run("package '" + path("mixed.tfp") + "' " + common + "-o '" + path("mixed.tfu") + "'")
                .exit_code,
            0);
  const std::string verify = "verify '" + path("mixed.tfu") + "' --pub '" + key + ".pub' ";
  r = run(verify + "--device '" + tiny_device + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "no kernel for MaxPool2D, Add, Quantize, Dequantize");
  r = run(verify + "--device '" + full_device + "' --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"device\": "), std::string::npos) << r.out;
  r = run(verify + "--device '" + m7_device + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "bad_target (the package is for cortex-m4");
  r = run(verify + "--base '" + path("tiny.tfp") + "'");
  EXPECT_EQ(r.exit_code, 2);
  r = run(verify + "--device '" + path("tiny.tfp") + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "not a device profile");

  // A delta from tiny to mixed: its plan is known only with the base the device runs.
  r = run("package '" + path("mixed.tfp") + "' " + common + "--base '" + path("tiny.tfp") +
          "' -o '" + path("d.tfu") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string verify_delta = "verify '" + path("d.tfu") + "' --pub '" + key + ".pub' ";
  r = run(verify_delta + "--device '" + tiny_device + "'");
  EXPECT_EQ(r.exit_code, 2);
  expect_one_error_line(r, "needs --base");
  r = run(verify_delta + "--device '" + tiny_device + "' --base '" + path("tiny.tfp") + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "no kernel for MaxPool2D, Add, Quantize, Dequantize");
  r = run(verify_delta + "--device '" + full_device + "' --base '" + path("tiny.tfp") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run(verify_delta + "--device '" + full_device + "' --base '" + path("mixed.tfp") + "'");
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "wrong_base");
}

}  // namespace
}  // namespace tinyforge::cli
