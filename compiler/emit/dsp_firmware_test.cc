// The DSP kernels as they run on the core, and the AOT C++ path: their Armv7E-M paths
// (hand-scheduled assembly, ACLE intrinsics) only exist in the cross-compiled runtime, so the host
// harness (plan/dsp_twins_test.cc) cannot see them. Each firmware here holds a dozen independent
// random ops (two per op family of plan/dsp_twin_cases.h: both output-stage forms, clamped
// and full-range activations, short and long dual-channel runs), built for cortex-m4 and
// run in the emulator on random inputs; every output must equal the host runtime's, whose
// portable kernels the host harness checks against the reference kernels.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "emit/aot_cpp.h"
#include "emit/cross_build.h"
#include "emit/firmware.h"
#include "emit/plan_writer.h"
#include "expect_error.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"
#include "plan/build_plan.h"
#include "plan/dsp_twin_cases.h"
#include "shared_data.h"
#include "sim/emulator.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;
using namespace plan::twin_cases;

// Which assembly path of the cortex-m4 runtime an op takes (mirrors the kernels' choice),
// so the test can insist that each one ran; "" for none.
template <typename P>
P params_of(const plan::PlanOp& op) {
  P p;
  std::memcpy(&p, op.params.data(), sizeof p);
  return p;
}
std::string asm_path(const plan::Plan& plan, const plan::PlanOp& op) {
  const auto full = [](int32_t lo, int32_t hi) {
    return lo == -128 && hi == 127 ? " full" : " clamped";
  };
  const auto& in = plan.tensors[op.inputs[0]].shape;
  constexpr int32_t kFast = static_cast<int32_t>(RequantMode::fast);
  switch (op.op) {
    case OpCode::Conv2DDsp: {
      const auto p = params_of<Conv2DDspParams>(op);
      if (p.requant != kFast || plan.tensors[op.outputs[0]].shape[3] < 4) return "";  // quads
      const int32_t groups = (p.filter_h * p.filter_w * in[3] + 3) / 4;
      return std::string("conv") + (groups <= p.run_groups ? " one run" : " runs") +
             full(p.act_min, p.act_max);
    }
    case OpCode::DepthwiseConv2DDsp: {
      const auto p = params_of<DepthwiseConv2DDspParams>(op);
      const int32_t taps = p.filter_h * p.filter_w;
      if (p.requant != kFast || in[3] < 4 || taps > 25) return "";  // 25: kMaxJobTaps
      if (taps != 9) return "depthwise taps";
      return std::string("depthwise 9 taps") + full(p.act_min, p.act_max);
    }
    case OpCode::FullyConnectedDsp: {
      const auto p = params_of<FullyConnectedDspParams>(op);
      // Assembly: rows of whole groups, depths up to 256 padded to them (kPaddedDepth).
      const int32_t depth = in.back(), groups = (depth + 3) / 4;
      if (p.requant != kFast || (depth % 4 != 0 && depth > 256)) return "";
      if (groups > p.run_groups) return "fully connected runs";
      if (depth % 4 != 0) return "fully connected padded";
      return std::string("fully connected") + full(p.act_min, p.act_max);
    }
    case OpCode::AddDsp: {
      const auto p = params_of<AddDspParams>(op);
      return p.requant == kFast && p.act_min == -128 && p.act_max == 127 ? "add full" : "";
    }
    default:
      return "";
  }
}

// A batch of 2 rows of 1024 inputs into 8 units with weights of +-127 only: the compiler's
// dual-channel run is below the row's 256 groups, so the fully connected assembly takes each
// row in several runs (random weights of the family rarely need that).
Built deep_fully_connected(Rng& rng) {
  GraphBuilder b{{}, rng};
  const int in = b.activation("in", {2, 1024}, 0.02f, uniform(rng, -128, 127));
  float w_scale;
  const int filter = b.weights({8, 1024}, 1, 0, &w_scale);
  for (uint8_t& w : b.g.tensors[filter].data)
    w = static_cast<uint8_t>(static_cast<int8_t>(uniform(rng, 0, 1) ? 127 : -127));
  const int bias = b.bias(8, 1000);
  // Sums of about 32 * 127 * 74 (random signs, random input bytes) land near +-64: a run
  // left out changes the bytes.
  const int out = b.activation("out", {2, 8}, 0.02f * w_scale * 300000.0f / 64.0f, 0);
  b.g.nodes.push_back(ir::Node{OpCode::FullyConnected,
                               {in, filter, bias},
                               {out},
                               ops::FullyConnectedAttrs{ir::Activation::none},
                               "fc"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::FullyConnectedDsp};
}

TEST(DspFirmware, AssemblyKernelsMatchTheHostRuntimeOnRandomOps) {
  if (!cross_toolchain_available())
    GTEST_SKIP() << "arm-none-eabi-gcc not found (scripts/bootstrap installs it)";
  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-dsp-fw-" + std::to_string(::getpid()));
  // Images until every assembly path ran (at least 4, at most 20; the seed is fixed, so the
  // count is deterministic).
  constexpr int kMinImages = 4, kMaxImages = 20, kPerFamily = 3;
  static const char* const kPaths[] = {
      "conv one run full",      "conv one run clamped",  "conv runs full",
      "conv runs clamped",      "depthwise 9 taps full", "depthwise 9 taps clamped",
      "depthwise taps",         "fully connected full",  "fully connected clamped",
      "fully connected padded", "fully connected runs",  "add full"};
  std::map<std::string, int> paths;
  auto covered = [&] {
    for (const char* path : kPaths)
      if (paths[path] == 0) return false;
    return true;
  };
  int images = 0;
  Rng rng(4242);
  int ops_checked = 0;
  for (int image_index = 0; image_index < kMaxImages && (image_index < kMinImages || !covered());
       ++image_index) {
    ++images;
    SCOPED_TRACE("image " + std::to_string(image_index));
    ir::Graph graph;
    graph.source = "dsp firmware test";
    std::vector<OpCode> twins;  // the twin each op must run as (one op per family graph)
    for (const Family& family : kFamilies)
      for (int k = 0; k < kPerFamily; ++k) {
        Built built = family.make(rng);
        twins.push_back(built.expected);
        append_graph(graph, built.graph);
      }
    if (image_index == 0) {
      Built deep = deep_fully_connected(rng);
      twins.push_back(deep.expected);
      append_graph(graph, deep.graph);
    }
    // speed: no reordering or chain fusion, so op i is family graph i's op.
    plan::PlanOptions options = host::plan_options_for_target("cortex-m4");
    options.optimize = plan::Optimize::speed;
    const plan::Plan plan = plan::build_plan(graph, options);
    ASSERT_EQ(plan.ops.size(), twins.size());
    for (size_t i = 0; i < plan.ops.size(); ++i)
      EXPECT_EQ(plan.ops[i].op, twins[i]) << "op " << i << " did not run as its twin";
    for (const plan::PlanOp& op : plan.ops) ++paths[asm_path(plan, op)];
    const std::vector<uint8_t> blob = write_plan_blob(plan);

    FirmwareOptions fw;
    fw.target = "cortex-m4";
    const FirmwareImage image = build_firmware(
        blob, fw, (dir / std::to_string(image_index)).string(), [](const std::string&) {});
    std::vector<uint8_t> input(image.input_bytes);
    for (uint8_t& b : input) b = static_cast<uint8_t>(uniform(rng, 0, 255));

    sim::RunOptions run;
    run.cpu = sim::Cpu::cortex_m4;
    run.input = input;
    const sim::RunResult device = sim::run_firmware(sim::read_elf(image.elf_path), run);

    host::HostRunner host(blob, "dsp firmware test");
    std::vector<std::vector<uint8_t>> inputs;
    size_t at = 0;
    for (uint32_t i = 0; i < host.runtime().num_inputs(); ++i) {
      const uint32_t n = host.input_bytes(i);
      inputs.emplace_back(input.begin() + static_cast<std::ptrdiff_t>(at),
                          input.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    }
    std::vector<uint8_t> expected;
    for (const auto& out : host.run(inputs, 1))
      expected.insert(expected.end(), out.begin(), out.end());
    ASSERT_EQ(device.output.size(), expected.size());
    // Compare op by op (each op has its own output) to name the one that differs.
    size_t offset = 0;
    for (uint32_t o = 0; o < host.runtime().num_outputs(); ++o) {
      const uint32_t n = host.output_bytes(o);
      EXPECT_TRUE(std::equal(expected.begin() + offset, expected.begin() + offset + n,
                             device.output.begin() + offset))
          << "op " << o << " (" << graph.nodes[o].name << ") differs on the core";
      offset += n;
      ++ops_checked;
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  EXPECT_EQ(ops_checked, images * kPerFamily * static_cast<int>(std::size(kFamilies)) + 1);
  for (const char* path : kPaths) EXPECT_GT(paths[path], 0) << "no op took the path: " << path;
  std::printf("dsp firmware: %d ops in %d images bit-exact on the emulated Cortex-M4:", ops_checked,
              images);
  for (const char* path : kPaths) std::printf(" %s %d,", path, paths[path]);
  std::printf("\n");
}

}  // namespace
}  // namespace tinyforge::emit

namespace tinyforge::emit {
namespace {

// The AOT path (emit/aot_cpp.h): the same plan as direct kernel calls gives the golden
// bytes on the core, without blob, validator or executor (less code and stack).
TEST(AotFirmware, MatchesTheGoldenOutputsAndTheBlobPath) {
  if (!cross_toolchain_available())
    GTEST_SKIP() << "arm-none-eabi-gcc not found (scripts/bootstrap installs it)";
  for (const char* name : {"kws_ref_model", "ad01_int8"}) {
    SCOPED_TRACE(name);
    const std::string golden = std::string("golden/") + name;
    TINYFORGE_REQUIRE_SHARED(golden + "/manifest.json");
    const fs::path dir = testing::shared_dir() / golden;
    const std::vector<uint8_t> blob =
        host::compile_model_file(
            (testing::shared_dir() / "models" / (std::string(name) + ".tflite")).string(),
            host::plan_options_for_target("cortex-m4"))
            .blob;
    const fs::path work =
        fs::temp_directory_path() / ("tinyforge-aot-" + std::to_string(::getpid()) + "-" + name);
    FirmwareOptions fw;
    fw.target = "cortex-m4";
    const FirmwareImage blob_image =
        build_firmware(blob, fw, (work / "blob").string(), [](const std::string&) {});
    fw.aot = true;
    const FirmwareImage aot_image =
        build_firmware(blob, fw, (work / "aot").string(), [](const std::string&) {});
    const auto inputs = io::read_file((dir / "in0.bin").string());
    const auto outputs = io::read_file((dir / "out0.bin").string());
    for (size_t k = 0; k < 2; ++k) {
      sim::RunOptions run;
      run.input = std::vector<uint8_t>(inputs.begin() + k * aot_image.input_bytes,
                                       inputs.begin() + (k + 1) * aot_image.input_bytes);
      const sim::RunResult aot = sim::run_firmware(sim::read_elf(aot_image.elf_path), run);
      const sim::RunResult via_blob = sim::run_firmware(sim::read_elf(blob_image.elf_path), run);
      EXPECT_EQ(aot.output,
                std::vector<uint8_t>(outputs.begin() + k * aot_image.output_bytes,
                                     outputs.begin() + (k + 1) * aot_image.output_bytes));
      EXPECT_EQ(aot.output, via_blob.output);
      EXPECT_EQ(*aot.arena_used, *via_blob.arena_used);
      EXPECT_LE(aot.instructions, via_blob.instructions);  // no executor
      EXPECT_LT(*aot.code_bytes, *via_blob.code_bytes);    // no validator, checks or dispatch
      EXPECT_LT(aot.stack_bytes, via_blob.stack_bytes);
    }
    std::error_code ec;
    fs::remove_all(work, ec);
  }
}

TEST(AotCpp, RefusesAnInvalidBlob) {
  std::vector<uint8_t> junk(100, 0);
  EXPECT_ERROR(emit_aot_cpp(junk), tinyforge::Error, "invalid plan blob: bad_magic");
}

}  // namespace
}  // namespace tinyforge::emit
