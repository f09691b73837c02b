// `tinyforge run --int64-inputs`: an ONNX model's int64 token ids, given as int64 files, are
// narrowed to the int32 tensor the device holds; a value outside int32 is refused with the
// file, case and element named, never wrapped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_run.h"
#include "import/onnx/onnx_test_builder.h"
#include "io/files.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> int64_bytes(const std::vector<int64_t>& v) {
  std::vector<uint8_t> b(v.size() * 8);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(CliRunInt64Inputs, TokenIdsAreNarrowedWithARangeCheck) {
  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-run-int64-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  onnx_test::ModelBuilder mb;  // embedding lookup: table [4, 2] indexed by ids [3]
  mb.input("ids", {3}, onnx::TensorProto::INT64);
  const std::vector<float> table = {0.5f, 1.5f, -2.0f, 3.0f, 7.0f, -8.0f, 0.25f, 9.0f};
  mb.initializer("table", {4, 2}, table);
  mb.node("Gather", {"table", "ids"}, {"emb"});
  mb.output("emb", {3, 2});
  const std::string model = mb.bytes();
  io::write_file((dir / "ids.onnx").string(), std::vector<uint8_t>(model.begin(), model.end()));
  io::write_file((dir / "ids.bin").string(), int64_bytes({3, 0, 1, 2, 2, 0}));  // two cases
  io::write_file((dir / "big.bin").string(), int64_bytes({3, 0, 1, 2, int64_t{1} << 40, 0}));
  io::write_file((dir / "odd.bin").string(), int64_bytes({1, 2}));
  const std::string m = "'" + (dir / "ids.onnx").string() + "'";
  const std::string out = " --output '" + (dir / "emb.bin").string() + "'";
  auto input = [&](const char* f) { return " --input '" + (dir / f).string() + "'"; };

  testing::CliRun r =
      testing::run_cli("run " + m + input("ids.bin") + out + " --int64-inputs", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<uint8_t> got = io::read_file((dir / "emb.bin").string());
  std::vector<float> want;
  for (int id : {3, 0, 1, 2, 2, 0})
    for (int k = 0; k < 2; ++k) want.push_back(table[static_cast<size_t>(id * 2 + k)]);
  ASSERT_EQ(got.size(), want.size() * 4);
  std::vector<float> values(want.size());
  std::memcpy(values.data(), got.data(), got.size());
  EXPECT_EQ(values, want);

  r = testing::run_cli("run " + m + input("big.bin") + out + " --int64-inputs", dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("big.bin: 1099511627776 at case 1, element 1 is outside int32"),
            std::string::npos)
      << r.err;
  r = testing::run_cli("run " + m + input("odd.bin") + out + " --int64-inputs", dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("odd.bin: 16 bytes is not a whole number of 3-element int64 tensors"),
            std::string::npos)
      << r.err;
  // Quantization does not take integer inputs yet, and says so.
  r = testing::run_cli("quantize " + m + " -c '" + (dir / "ids.bin").string() + "' -o '" +
                           (dir / "q.tflite").string() + "'",
                       dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("model input 'ids' is int32 indices: tinyforge does not quantize"),
            std::string::npos)
      << r.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tinyforge
