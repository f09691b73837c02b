// The device profile: --kernels resolution, the JSON round trip, a damaged profile refused
// field by field, and the refusal of a plan that needs kernels the image lacks.
#include "emit/device_profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "emit/model_ops.h"
#include "expect_error.h"
#include "host/compile.h"
#include "io/files.h"
#include "plan/select_kernels.h"
#include "tflite_model_builder.h"
#include "tinyforge/plan_format.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;

class DeviceProfileFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tinyforge_profile_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& text) const {
    const std::string p = (dir_ / "device.json").string();
    io::write_file(p, std::vector<uint8_t>(text.begin(), text.end()));
    return p;
  }
  fs::path dir_;
};

std::vector<uint8_t> tiny_blob() {
  const fs::path p = fs::temp_directory_path() / ("tinyforge_tiny_" + std::to_string(::getpid()));
  io::write_file(p.string() + ".tflite", testing::build_tflite(testing::tiny_int8_model()));
  std::vector<uint8_t> blob = host::compile_model_file(p.string() + ".tflite").blob;
  fs::remove(p.string() + ".tflite");
  return blob;
}

std::vector<uint8_t> mixed_blob() {
  const fs::path p = fs::temp_directory_path() / ("tinyforge_mixed_" + std::to_string(::getpid()));
  io::write_file(p.string() + ".tflite", testing::build_tflite(testing::tiny_mixed_model()));
  std::vector<uint8_t> blob = host::compile_model_file(p.string() + ".tflite").blob;
  fs::remove(p.string() + ".tflite");
  return blob;
}

const std::set<OpCode> kTinyOps = {OpCode::Conv2D,  OpCode::DepthwiseConv2D, OpCode::AveragePool2D,
                                   OpCode::Reshape, OpCode::FullyConnected,  OpCode::Softmax};

TEST(Kernels, ModelAllAndList) {
  EXPECT_EQ(resolve_kernels("model", "cortex-m4", kTinyOps), kTinyOps);
  // all: every op on a DSP core; without the DSP extension, every op but the seven twins (the DSP
  // kernels and ConvChainDsp).
  EXPECT_EQ(resolve_kernels("all", "cortex-m4", kTinyOps).size(), size_t{kNumOps});
  const std::set<OpCode> m0 = resolve_kernels("all", "cortex-m0plus", kTinyOps);
  EXPECT_EQ(m0.size(), size_t{kNumOps} - 7);
  EXPECT_EQ(m0.count(OpCode::Conv2DDsp), 0u);
  EXPECT_EQ(m0.count(OpCode::Conv2D), 1u);
  const std::set<OpCode> listed =
      resolve_kernels("Conv2D,DepthwiseConv2D,AveragePool2D,Reshape,FullyConnected,Softmax,Add",
                      "cortex-m4", kTinyOps);
  std::set<OpCode> expected = kTinyOps;
  expected.insert(OpCode::Add);
  EXPECT_EQ(listed, expected);
}

// The image switches of the generated header: region code only for a plan with regions,
// per-op frames sized for the most inputs and outputs an op of the kernel set has.
TEST(ModelOpsHeader, ImageSwitches) {
  const std::string plain = model_ops_header(kTinyOps, false);
  EXPECT_NE(plain.find("#define TINYFORGE_OP_ENABLED_Conv2D 1\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_OP_ENABLED_Split 0\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_MEMORY_REGIONS 0\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_MAX_OP_OUTPUTS 1\n"), std::string::npos);
  // Conv2D, DepthwiseConv2D, FullyConnected: input, weights, bias, two optional inputs.
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_MAX_OP_INPUTS 5\n"), std::string::npos);
  // The Armv7E-M twins take exactly three: their images hold three input views per op.
  const std::string dsp = model_ops_header(
      {OpCode::Conv2DDsp, OpCode::FullyConnectedDsp, OpCode::Reshape, OpCode::Softmax}, false);
  EXPECT_NE(dsp.find("#define TINYFORGE_IMAGE_MAX_OP_INPUTS 3\n"), std::string::npos);
  std::set<OpCode> with_split = kTinyOps;
  with_split.insert(OpCode::Split);
  const std::string split = model_ops_header(with_split, true);
  EXPECT_NE(split.find("#define TINYFORGE_IMAGE_MEMORY_REGIONS 1\n"), std::string::npos);
  EXPECT_NE(split.find("#define TINYFORGE_IMAGE_MAX_OP_OUTPUTS " +
                       std::to_string(op_info(OpCode::Split).outputs) + "\n"),
            std::string::npos);
  std::set<OpCode> with_concat = kTinyOps;
  with_concat.insert(OpCode::Concatenation);
  EXPECT_NE(model_ops_header(with_concat, false)
                .find("#define TINYFORGE_IMAGE_MAX_OP_INPUTS " +
                      std::to_string(op_info(OpCode::Concatenation).max_inputs) + "\n"),
            std::string::npos);
}

TEST(Kernels, ListMustCoverTheModelAndNameRealOps) {
  EXPECT_ERROR(resolve_kernels("Conv2D,Reshape", "cortex-m4", kTinyOps), tinyforge::Error,
               "needs DepthwiseConv2D, FullyConnected, AveragePool2D, Softmax");
  EXPECT_ERROR(resolve_kernels("Conv2D,Conv3D", "cortex-m4", {}), tinyforge::Error,
               "'Conv3D' is not an op");
  EXPECT_ERROR(resolve_kernels("Conv2D,,Add", "cortex-m4", {}), tinyforge::Error,
               "'' is not an op");
}

TEST_F(DeviceProfileFile, RoundTrip) {
  const DeviceProfile p = device_profile("cortex-m4", kTinyOps);
  EXPECT_EQ(p.kernel_variant, "armv7em");
  EXPECT_EQ(p.plan_major, kPlanVersionMajor);
  EXPECT_EQ(device_profile("cortex-m0plus", kTinyOps).kernel_variant, "reference");
  const DeviceProfile back = read_device_profile(write(device_profile_json(p)));
  EXPECT_EQ(back.target, "cortex-m4");
  EXPECT_EQ(back.kernel_variant, "armv7em");
  EXPECT_EQ(back.plan_major, kPlanVersionMajor);
  EXPECT_EQ(back.plan_minor, kPlanVersionMinor);
  EXPECT_EQ(back.kernels, kTinyOps);
  // The opcode is the plan format's: Conv2D is 0 in every version.
  EXPECT_NE(device_profile_json(p).find("{\n   \"opcode\": 0,\n   \"name\": \"Conv2D\"\n  }"),
            std::string::npos)
      << device_profile_json(p);
}

TEST_F(DeviceProfileFile, DamagedProfilesAreRefusedByField) {
  const std::string good = device_profile_json(device_profile("cortex-m4", kTinyOps));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return write(s.replace(at, from.size(), to));
  };
  EXPECT_ERROR(read_device_profile(write("not json")), tinyforge::Error, "not a JSON object");
  EXPECT_ERROR(read_device_profile(with("tinyforge-device-profile", "other")), tinyforge::Error,
               "\"format\"");
  EXPECT_ERROR(read_device_profile(with("\"version\": 1", "\"version\": 2")), tinyforge::Error,
               "\"version\" is not 1");
  EXPECT_ERROR(read_device_profile(with("\"cortex-m4\"", "\"cortex-m9\"")), tinyforge::Error,
               "\"target\"");
  EXPECT_ERROR(read_device_profile(with("\"armv7em\"", "\"neon\"")), tinyforge::Error,
               "\"kernel_variant\"");
  EXPECT_ERROR(
      read_device_profile(with("\"major\": " + std::to_string(kPlanVersionMajor), "\"major\": -1")),
      tinyforge::Error, "\"plan_format\" has no \"major\"");
  EXPECT_ERROR(read_device_profile(with("\"name\": \"Conv2D\"", "\"name\": \"Add\"")),
               tinyforge::Error, "kernel Add with opcode 0 is not an op");
  EXPECT_ERROR(read_device_profile(with("\"opcode\": 0", "\"opcode\": 999")), tinyforge::Error,
               "opcode 999");
  EXPECT_ERROR(read_device_profile(with("\"opcode\": 0", "\"opcode\": \"0\"")), tinyforge::Error,
               "is not {\"opcode\": N");
  EXPECT_ERROR(read_device_profile((dir_ / "absent.json").string()), tinyforge::Error,
               "absent.json");
}

TEST(DeviceRefusal, NamesEveryMissingOp) {
  const DeviceProfile tiny_device = device_profile("cortex-m4", kTinyOps);
  EXPECT_TRUE(refusals_for_device(tiny_device, tiny_blob()).empty());
  const std::vector<std::string> r = refusals_for_device(tiny_device, mixed_blob());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(r[0].find("no kernel for MaxPool2D, Add, Quantize, Dequantize"), std::string::npos)
      << r[0];

  DeviceProfile old_runtime = device_profile("cortex-m4", resolve_kernels("all", "cortex-m4", {}));
  EXPECT_TRUE(refusals_for_device(old_runtime, mixed_blob()).empty());
  // An image built without the region code reads up to x.1: a newer minor is refused.
  DeviceProfile no_regions = device_profile("cortex-m4", kTinyOps, false);
  EXPECT_EQ(no_regions.plan_minor, kPlanMinorWithoutRegions);
  EXPECT_TRUE(refusals_for_device(no_regions, tiny_blob()).empty());
  no_regions.plan_minor = 0;
  const std::vector<std::string> minor = refusals_for_device(no_regions, tiny_blob());
  ASSERT_EQ(minor.size(), 1u);
  EXPECT_NE(
      minor[0].find("the device's runtime reads up to " + std::to_string(kPlanVersionMajor) + ".0"),
      std::string::npos)
      << minor[0];

  old_runtime.plan_major = kPlanVersionMajor + 1;
  const std::vector<std::string> v = refusals_for_device(old_runtime, mixed_blob());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("the device's runtime reads " + std::to_string(kPlanVersionMajor + 1)),
            std::string::npos)
      << v[0];
}

}  // namespace
}  // namespace tinyforge::emit
