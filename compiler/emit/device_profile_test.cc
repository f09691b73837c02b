// The device profile: --kernels resolution, the JSON round trip, a damaged profile refused
// field by field, and the refusal of a plan that needs kernels the image lacks.
#include "emit/device_profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>

#include "emit/model_ops.h"
#include "emit/validated_plan.h"
#include "expect_error.h"
#include "host/compile.h"
#include "io/files.h"
#include "plan/select_kernels.h"
#include "tflite_model_builder.h"
#include "tinyforge/params.h"
#include "tinyforge/plan_format.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;
namespace tfl = ::tinyforge::tfl;

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

// The tiny model planned for the Cortex-M4: Conv2DDsp, DepthwiseConv2DDsp, FullyConnectedDsp...
std::vector<uint8_t> dsp_blob() {
  const fs::path p = fs::temp_directory_path() / ("tinyforge_dsp_" + std::to_string(::getpid()));
  io::write_file(p.string() + ".tflite", testing::build_tflite(testing::tiny_int8_model()));
  std::vector<uint8_t> blob =
      host::compile_model_file(p.string() + ".tflite", host::plan_options_for_target("cortex-m4"))
          .blob;
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

// SOFTMAX on int16 [1,10] (TFLite's 16x8 scheme): a plan with int16 tensors.
std::vector<uint8_t> int16_softmax_blob() {
  testing::ModelSpec m;
  m.tensors = {{"x", {1, 10}, tfl::TensorType::INT16, {}, {0.001f}, {0}},
               {"y", {1, 10}, tfl::TensorType::INT16, {}, {1.0f / 32768}, {0}}};
  testing::OpSpec op{tfl::BuiltinOperator::SOFTMAX, {0}, {1}};
  op.beta = 1.0f;
  m.ops = {op};
  m.inputs = {0};
  m.outputs = {1};
  const fs::path p = fs::temp_directory_path() / ("tinyforge_i16_" + std::to_string(::getpid()));
  io::write_file(p.string() + ".tflite", testing::build_tflite(m));
  std::vector<uint8_t> blob = host::compile_model_file(p.string() + ".tflite").blob;
  fs::remove(p.string() + ".tflite");
  return blob;
}

// dsp_blob() with every conv and fully connected op asking for the exact output stage
// (RequantMode::exact), the checksum redone.
std::vector<uint8_t> exact_dsp_blob() {
  std::vector<uint8_t> exact = dsp_blob();
  const ValidatedPlan plan(exact, "dsp");
  for (uint32_t i = 0; i < plan.header().num_ops; ++i) {
    const OpRecord op = plan.reader().op(i);
    const OpCode code = static_cast<OpCode>(op.opcode);
    size_t at = 0;
    if (code == OpCode::Conv2DDsp)
      at = offsetof(Conv2DDspParams, requant);
    else if (code == OpCode::DepthwiseConv2DDsp)
      at = offsetof(DepthwiseConv2DDspParams, requant);
    else if (code == OpCode::FullyConnectedDsp)
      at = offsetof(FullyConnectedDspParams, requant);
    else
      continue;
    const int32_t mode = static_cast<int32_t>(RequantMode::exact);
    std::memcpy(exact.data() + op.params_offset + at, &mode, 4);
  }
  const uint32_t crc = plan_checksum(exact.data(), static_cast<uint32_t>(exact.size()));
  std::memcpy(exact.data() + offsetof(PlanHeader, checksum), &crc, 4);
  return exact;
}

TEST(ModelOpsHeader, KernelPathsOfThePlan) {
  EXPECT_EQ(kernel_paths(tiny_blob()), (KernelPaths{false, false, false}));
  EXPECT_EQ(kernel_paths(mixed_blob()), (KernelPaths{false, false, true}));
  EXPECT_EQ(kernel_paths(int16_softmax_blob()), (KernelPaths{true, false, false}));
  // The DSP plan of the tiny model: each DSP op's RequantMode, read from its params.
  const std::vector<uint8_t> dsp = dsp_blob();
  const ValidatedPlan plan(dsp, "dsp");
  int dsp_ops = 0;
  for (uint32_t i = 0; i < plan.header().num_ops; ++i)
    if (plan::is_dsp_twin(static_cast<OpCode>(plan.reader().op(i).opcode))) ++dsp_ops;
  ASSERT_GT(dsp_ops, 0);
  EXPECT_FALSE(kernel_paths(dsp).int16);
  EXPECT_EQ(kernel_paths(exact_dsp_blob()), (KernelPaths{false, true, false}));
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
// int16 paths only for a plan with int16 tensors, per-op frames sized for the most inputs and
// outputs an op of the kernel set has.
TEST(ModelOpsHeader, ImageSwitches) {
  const std::string plain = model_ops_header(kTinyOps, false, KernelPaths{false, false, false});
  EXPECT_NE(plain.find("#define TINYFORGE_OP_ENABLED_Conv2D 1\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_OP_ENABLED_Split 0\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_MEMORY_REGIONS 0\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_INT16 0\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_EXACT_REQUANT 0\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_FLOAT 0\n"), std::string::npos);
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_MAX_OP_OUTPUTS 1\n"), std::string::npos);
  // Conv2D, DepthwiseConv2D, FullyConnected: input, weights, bias, two optional inputs.
  EXPECT_NE(plain.find("#define TINYFORGE_IMAGE_MAX_OP_INPUTS 5\n"), std::string::npos);
  // The Armv7E-M twins take exactly three: their images hold three input views per op.
  const std::string dsp = model_ops_header(
      {OpCode::Conv2DDsp, OpCode::FullyConnectedDsp, OpCode::Reshape, OpCode::Softmax}, false,
      KernelPaths{false, false, false});
  EXPECT_NE(dsp.find("#define TINYFORGE_IMAGE_MAX_OP_INPUTS 3\n"), std::string::npos);
  std::set<OpCode> with_split = kTinyOps;
  with_split.insert(OpCode::Split);
  const std::string split = model_ops_header(with_split, true, KernelPaths{});
  EXPECT_NE(split.find("#define TINYFORGE_IMAGE_MEMORY_REGIONS 1\n"), std::string::npos);
  EXPECT_NE(split.find("#define TINYFORGE_IMAGE_INT16 1\n"), std::string::npos);
  EXPECT_NE(split.find("#define TINYFORGE_IMAGE_EXACT_REQUANT 1\n"), std::string::npos);
  const std::string int16_only = model_ops_header(kTinyOps, false, KernelPaths{true, false, true});
  EXPECT_NE(int16_only.find("#define TINYFORGE_IMAGE_INT16 1\n"), std::string::npos);
  EXPECT_NE(int16_only.find("#define TINYFORGE_IMAGE_EXACT_REQUANT 0\n"), std::string::npos);
  EXPECT_NE(int16_only.find("#define TINYFORGE_IMAGE_FLOAT 1\n"), std::string::npos);
  // The runtime library's form: one define per path left out.
  EXPECT_TRUE(runtime_defines(KernelPaths{}).empty());
  EXPECT_EQ(runtime_defines(KernelPaths{false, false, false}),
            (std::vector<std::string>{"TINYFORGE_IMAGE_INT16=0", "TINYFORGE_IMAGE_EXACT_REQUANT=0",
                                      "TINYFORGE_IMAGE_FLOAT=0"}));
  EXPECT_EQ(runtime_defines(KernelPaths{true, false, true}),
            std::vector<std::string>{"TINYFORGE_IMAGE_EXACT_REQUANT=0"});
  EXPECT_NE(split.find("#define TINYFORGE_IMAGE_MAX_OP_OUTPUTS " +
                       std::to_string(op_info(OpCode::Split).outputs) + "\n"),
            std::string::npos);
  std::set<OpCode> with_concat = kTinyOps;
  with_concat.insert(OpCode::Concatenation);
  EXPECT_NE(model_ops_header(with_concat, false, KernelPaths{})
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
  EXPECT_EQ(back.paths, KernelPaths{});
  EXPECT_EQ(read_device_profile(write(device_profile_json(device_profile(
                                    "cortex-m4", kTinyOps, false, {true, false, true}))))
                .paths,
            (KernelPaths{true, false, true}));
  EXPECT_EQ(read_device_profile(write(device_profile_json(device_profile(
                                    "cortex-m4", kTinyOps, false, {false, true, false}))))
                .paths,
            (KernelPaths{false, true, false}));
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
  EXPECT_ERROR(read_device_profile(with("\"int16\": true", "\"int16\": 1")), tinyforge::Error,
               "\"int16\" is not true or false");
  EXPECT_ERROR(read_device_profile(with("\"exact_requant\": true", "\"exact_requant\": null")),
               tinyforge::Error, "\"exact_requant\" is not true or false");
  // A profile written before the switches: its image carried every path.
  EXPECT_ERROR(read_device_profile(with("\"float32\": true", "\"float32\": \"yes\"")),
               tinyforge::Error, "\"float32\" is not true or false");
  EXPECT_EQ(read_device_profile(
                with("\"int16\": true,\n \"exact_requant\": true,\n \"float32\": true,", ""))
                .paths,
            KernelPaths{});
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

  // An image built without the int16 paths: an int8 plan runs, an int16 one is refused.
  const DeviceProfile no_int16 = device_profile("cortex-m4", kTinyOps, false, {false, true, true});
  EXPECT_TRUE(refusals_for_device(no_int16, tiny_blob()).empty());
  const std::vector<std::string> int16 = refusals_for_device(no_int16, int16_softmax_blob());
  ASSERT_EQ(int16.size(), 1u);
  EXPECT_NE(int16[0].find("the plan has int16 tensors"), std::string::npos) << int16[0];
  EXPECT_TRUE(
      refusals_for_device(device_profile("cortex-m4", kTinyOps, false, {true, false, false}),
                          int16_softmax_blob())
          .empty());

  // Without the exact output stage: a plan whose DSP ops use it is refused; without float,
  // a plan with float tensors.
  const std::set<OpCode> dsp_ops = ops_in_blob(dsp_blob());
  const DeviceProfile fast_only =
      device_profile("cortex-m4", dsp_ops, false, {false, false, false});
  EXPECT_TRUE(refusals_for_device(fast_only, dsp_blob()).empty());
  const std::vector<std::string> exact = refusals_for_device(fast_only, exact_dsp_blob());
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_NE(exact[0].find("use the exact output stage"), std::string::npos) << exact[0];
  const std::vector<std::string> floats =
      refusals_for_device(device_profile("cortex-m4", resolve_kernels("all", "cortex-m4", {}),
                                         false, {true, true, false}),
                          mixed_blob());
  ASSERT_EQ(floats.size(), 1u);
  EXPECT_NE(floats[0].find("the plan has float32 tensors"), std::string::npos) << floats[0];

  old_runtime.plan_major = kPlanVersionMajor + 1;
  const std::vector<std::string> v = refusals_for_device(old_runtime, mixed_blob());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("the device's runtime reads " + std::to_string(kPlanVersionMajor + 1)),
            std::string::npos)
      << v[0];
}

}  // namespace
}  // namespace tinyforge::emit
