// layer_shapes_bench: one int8 layer per shape (convolutions 1x1..7x7 with 1..256 channels,
// strides and paddings, depthwise with multipliers 1..8, 1-D convolutions as in audio
// models, fully connected) on the emulated Cortex-M4, printed as Markdown against the
// floors of docs/dsp-kernels.md (scripts/bench writes it to bench/results/layers.md).
//
// Every shape is its own one-op graph with seeded random weights, quantization and input;
// the graphs run side by side in one firmware with op markers (sim::OpMark: each op's
// instructions and estimated cycles, the marker call included), the same emulator and
// timing model as `tinyforge bench`. The image with the cortex-m4 selection must give the
// same bytes as the one with the portable reference kernels, else the program fails.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "emit/firmware.h"
#include "emit/plan_writer.h"
#include "host/compile.h"
#include "ops/conv.h"
#include "ops/fully_connected.h"
#include "plan/build_plan.h"
#include "plan/dsp_twin_cases.h"
#include "plan/select_kernels.h"
#include "sim/emulator.h"
#include "tinyforge/ops.h"
#include "tinyforge/params.h"

using namespace tinyforge;
using namespace tinyforge::plan::twin_cases;
namespace fs = std::filesystem;

namespace {

enum class Kind { conv, depthwise, fully_connected };

struct Shape {
  Kind kind;
  const char* what;  // the shape class, e.g. "pointwise"
  int32_t h, w, c;   // input; fully connected: h = rows, c = depth
  int32_t out;       // conv: output channels; depthwise: multiplier; FC: units
  int32_t kh, kw, stride;
  ir::Padding padding;
};

constexpr ir::Padding kSame = ir::Padding::same, kValid = ir::Padding::valid;

std::vector<Shape> shapes() {
  return {
      {Kind::conv, "pointwise", 16, 16, 1, 8, 1, 1, 1, kValid},
      {Kind::conv, "pointwise", 16, 16, 16, 16, 1, 1, 1, kValid},
      {Kind::conv, "pointwise", 8, 8, 64, 64, 1, 1, 1, kValid},
      {Kind::conv, "pointwise", 4, 4, 256, 256, 1, 1, 1, kValid},
      {Kind::conv, "pointwise", 8, 8, 96, 24, 1, 1, 1, kValid},
      {Kind::conv, "first layer", 32, 32, 3, 16, 3, 3, 2, kSame},
      {Kind::conv, "3x3", 16, 16, 8, 8, 3, 3, 1, kSame},
      {Kind::conv, "3x3", 16, 16, 16, 16, 3, 3, 1, kSame},
      {Kind::conv, "3x3", 8, 8, 64, 64, 3, 3, 1, kSame},
      {Kind::conv, "3x3", 16, 16, 32, 32, 3, 3, 2, kValid},
      {Kind::conv, "5x5", 16, 16, 16, 16, 5, 5, 1, kSame},
      {Kind::conv, "7x7", 32, 32, 3, 16, 7, 7, 2, kSame},
      {Kind::conv, "7x7", 8, 8, 32, 32, 7, 7, 1, kSame},
      {Kind::conv, "1-D (audio)", 1, 98, 40, 32, 1, 3, 1, kSame},
      {Kind::conv, "1-D (audio)", 1, 64, 64, 64, 1, 5, 2, kSame},
      {Kind::conv, "1-D (audio)", 1, 49, 10, 64, 1, 10, 2, kSame},
      {Kind::depthwise, "depthwise 3x3", 16, 16, 16, 1, 3, 3, 1, kSame},
      {Kind::depthwise, "depthwise 3x3", 16, 16, 64, 1, 3, 3, 2, kSame},
      {Kind::depthwise, "depthwise 3x3", 8, 8, 256, 1, 3, 3, 1, kSame},
      {Kind::depthwise, "depthwise 3x3", 16, 16, 6, 1, 3, 3, 1, kValid},
      {Kind::depthwise, "depthwise 5x5", 16, 16, 32, 1, 5, 5, 1, kSame},
      {Kind::depthwise, "depthwise 7x7", 16, 16, 16, 1, 7, 7, 1, kSame},
      {Kind::depthwise, "depthwise M 2", 16, 16, 8, 2, 3, 3, 1, kSame},
      {Kind::depthwise, "depthwise M 4", 16, 16, 4, 4, 3, 3, 1, kSame},
      {Kind::depthwise, "depthwise M 8", 16, 16, 1, 8, 3, 3, 1, kSame},
      {Kind::depthwise, "depthwise 1-D (audio)", 1, 98, 64, 1, 1, 3, 1, kSame},
      {Kind::fully_connected, "fully connected", 1, 1, 16, 16, 1, 1, 1, kValid},
      {Kind::fully_connected, "fully connected", 1, 1, 64, 64, 1, 1, 1, kValid},
      {Kind::fully_connected, "fully connected", 1, 1, 256, 10, 1, 1, 1, kValid},
      {Kind::fully_connected, "fully connected", 1, 1, 1024, 128, 1, 1, 1, kValid},
      {Kind::fully_connected, "fully connected", 1, 1, 250, 12, 1, 1, 1, kValid},
  };
}

int32_t out_h(const Shape& s) { return window_out(s.h, s.kh, s.stride, 1, s.padding); }
int32_t out_w(const Shape& s) { return window_out(s.w, s.kw, s.stride, 1, s.padding); }
int32_t out_channels(const Shape& s) { return s.kind == Kind::depthwise ? s.c * s.out : s.out; }

int64_t macs(const Shape& s) {
  if (s.kind == Kind::fully_connected) return int64_t{s.h} * s.c * s.out;
  const int64_t per_output = int64_t{s.kh} * s.kw * (s.kind == Kind::conv ? s.c : 1);
  return int64_t{out_h(s)} * out_w(s) * out_channels(s) * per_output;
}

// A bias of typical size (GraphBuilder::bias sometimes draws huge ones to reach the exact
// requant form; a layer of a trained model has the fast one, packed.h).
int typical_bias(GraphBuilder& b, int32_t channels, int64_t typical) {
  ir::Tensor t;
  t.name = "b";
  t.type = DType::i32;
  t.shape = {channels};
  t.constant = true;
  t.data.resize(static_cast<size_t>(channels) * 4);
  for (int32_t c = 0; c < channels; ++c) {
    const auto v =
        static_cast<int32_t>(std::uniform_int_distribution<int64_t>(-typical, typical)(b.rng));
    std::memcpy(t.data.data() + 4 * c, &v, 4);
  }
  return b.g.add_tensor(std::move(t));
}

// The shape as one op with fused ReLU and an output scale that keeps results in int8.
void add_op(ir::Graph& g, const Shape& s, uint32_t seed) {
  Rng rng(seed);
  GraphBuilder b{{}, rng};
  const float in_scale = log_uniform(rng, 0.01f, 0.1f);
  const bool fc = s.kind == Kind::fully_connected;
  const std::vector<int32_t> in_shape =
      fc ? std::vector<int32_t>{s.h, s.c} : std::vector<int32_t>{1, s.h, s.w, s.c};
  const int in = b.activation("in", in_shape, in_scale, uniform(rng, -128, 127));
  const int32_t oc = out_channels(s);
  const int64_t depth = fc ? s.c : int64_t{s.kh} * s.kw * (s.kind == Kind::conv ? s.c : 1);
  float w_scale;
  const int filter = fc                     ? b.weights({oc, s.c}, oc, 0, &w_scale)
                     : s.kind == Kind::conv ? b.weights({oc, s.kh, s.kw, s.c}, oc, 0, &w_scale)
                                            : b.weights({1, s.kh, s.kw, oc}, oc, 3, &w_scale);
  const int bias = typical_bias(b, oc, depth * 127 * 16);
  const float typical = in_scale * w_scale * 127.0f * std::sqrt(static_cast<float>(depth)) * 4.0f;
  const std::vector<int32_t> out_shape =
      fc ? std::vector<int32_t>{s.h, oc} : std::vector<int32_t>{1, out_h(s), out_w(s), oc};
  const int out = b.activation("out", out_shape, typical, uniform(rng, -128, 127));
  if (fc) {
    const ops::FullyConnectedAttrs a{ir::Activation::relu};
    b.g.nodes.push_back(ir::Node{OpCode::FullyConnected, {in, filter, bias}, {out}, a, "fc"});
  } else {
    ops::ConvAttrs a;
    a.activation = ir::Activation::relu;
    a.window.stride_h = a.window.stride_w = s.stride;
    a.window.padding = s.padding;
    a.depth_multiplier = s.kind == Kind::depthwise ? s.out : 1;
    const OpCode op = s.kind == Kind::conv ? OpCode::Conv2D : OpCode::DepthwiseConv2D;
    b.g.nodes.push_back(ir::Node{op, {in, filter, bias}, {out}, a, "layer"});
  }
  b.g.inputs = {in};
  b.g.outputs = {out};
  append_graph(g, b.g);
}

sim::RunResult run_on_m4(const plan::Plan& plan, const std::vector<uint8_t>& input,
                         const std::string& dir) {
  emit::FirmwareOptions fw;
  fw.target = "cortex-m4";
  fw.op_markers = true;
  const emit::FirmwareImage image =
      emit::build_firmware(emit::write_plan_blob(plan), fw, dir, [](const std::string&) {});
  sim::RunOptions options;
  options.cpu = sim::Cpu::cortex_m4;
  options.input = input;
  return sim::run_firmware(sim::read_elf(image.elf_path), options);
}

struct Cost {
  uint64_t instructions, cycles;
};
Cost op_cost(const sim::RunResult& r, size_t i) {
  const sim::OpMark& m = r.op_marks.at(i);
  if (i == 0) return {m.instructions, m.cycles};
  return {m.instructions - r.op_marks[i - 1].instructions, m.cycles - r.op_marks[i - 1].cycles};
}

// The output stage a DSP kernel runs ("fast" or "exact", tinyforge/params.h RequantMode).
template <typename Params>
const char* requant_in(const plan::PlanOp& op) {
  Params p;
  if (op.params.size() != sizeof p) return "";
  std::memcpy(&p, op.params.data(), sizeof p);
  return p.requant == static_cast<int32_t>(RequantMode::fast) ? ", fast" : ", exact";
}
const char* requant_of(const plan::PlanOp& op) {
  switch (op.op) {
    case OpCode::Conv2DDsp:
      return requant_in<Conv2DDspParams>(op);
    case OpCode::DepthwiseConv2DDsp:
      return requant_in<DepthwiseConv2DDspParams>(op);
    case OpCode::FullyConnectedDsp:
      return requant_in<FullyConnectedDspParams>(op);
    default:
      return "";
  }
}

std::string thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string shape_text(const Shape& s) {
  char buf[96];
  if (s.kind == Kind::fully_connected) {
    std::snprintf(buf, sizeof buf, "%d -> %d", s.c, s.out);
  } else {
    std::snprintf(buf, sizeof buf, "%dx%dx%d -> %dx%dx%d, %dx%d /%d %s", s.h, s.w, s.c, out_h(s),
                  out_w(s), out_channels(s), s.kh, s.kw, s.stride,
                  s.padding == kSame ? "same" : "valid");
  }
  return buf;
}

// The floor a shape class must reach in MACs per estimated cycle (0: none), and its name.
double floor_of(const Shape& s) {
  if (s.kind == Kind::depthwise) return s.kh == 3 && s.kw == 3 && s.out == 1 ? 0.5 : 0;
  return s.c >= 16 ? 1.0 : 0;
}

void table(const std::string& work) {
  const std::vector<Shape> all = shapes();
  ir::Graph g;
  for (size_t i = 0; i < all.size(); ++i) add_op(g, all[i], 2000 + static_cast<uint32_t>(i));
  std::vector<uint8_t> input;
  Rng rng(91);
  for (int t : g.inputs)
    for (int64_t k = 0; k < g.tensors[t].bytes(); ++k)
      input.push_back(static_cast<uint8_t>(uniform(rng, 0, 255)));

  // speed: no reordering or chain fusion, so the plan's op i is shape i's layer (the
  // shapes are independent graphs the RAM-saving reordering would interleave).
  plan::PlanOptions reference_options, m4_options = host::plan_options_for_target("cortex-m4");
  reference_options.optimize = m4_options.optimize = plan::Optimize::speed;
  const plan::Plan reference = plan::build_plan(g, reference_options);
  const plan::Plan m4 = plan::build_plan(g, m4_options);
  const sim::RunResult ref_run = run_on_m4(reference, input, work + "/reference");
  const sim::RunResult run = run_on_m4(m4, input, work + "/m4");
  if (run.output != ref_run.output)
    throw Error("the cortex-m4 kernels' outputs differ from the reference kernels'");
  if (m4.ops.size() != all.size() || run.op_marks.size() != all.size())
    throw Error("expected one op and one op mark per shape");

  std::printf(
      "| # | class | shape | MACs | kernel, output stage | instructions | cycles (est.) | "
      "MAC/cycle | "
      "floor | result |\n"
      "|---:|---|---|---:|---|---:|---:|---:|---:|---|\n");
  size_t failed = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const Shape& s = all[i];
    const Cost c = op_cost(run, i);
    const double per_cycle = static_cast<double>(macs(s)) / static_cast<double>(c.cycles);
    const OpCode kernel = m4.ops[i].op;
    const double floor = floor_of(s);
    std::string verdict = "pass";
    if (!plan::is_dsp_twin(kernel))
      verdict = "**fail**: portable fallback";
    else if (per_cycle < floor)
      verdict = "**fail**: below the floor";
    if (verdict != "pass") ++failed;
    char floor_text[16] = "-";
    if (floor > 0) std::snprintf(floor_text, sizeof floor_text, ">= %.1f", floor);
    std::printf("| %zu | %s | %s | %s | `%s`%s | %s | %s | %.2f | %s | %s |\n", i + 1, s.what,
                shape_text(s).c_str(), thousands(static_cast<uint64_t>(macs(s))).c_str(),
                op_info(kernel).name, requant_of(m4.ops[i]), thousands(c.instructions).c_str(),
                thousands(c.cycles).c_str(), per_cycle, floor_text, verdict.c_str());
  }
  std::printf("\n%zu of %zu shapes pass; the outputs equal the reference kernels' byte for byte.\n",
              all.size() - failed, all.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 1) {
    std::fprintf(stderr, "usage: layer_shapes_bench (no arguments)\n");
    return 2;
  }
  (void)argv;
  const std::string work =
      (fs::temp_directory_path() / ("tinyforge-layers-bench-" + std::to_string(::getpid())))
          .string();
  try {
    std::printf(
        "# Layer shapes on Cortex-M4\n\n"
        "Generated by `build/host/tests/layer_shapes_bench` (`bench/layer_shapes.cc`, run by "
        "`make bench`). One int8 layer per row (seeded random weights, quantization and "
        "input; fused ReLU), compiled with `--target cortex-m4` and run in the built-in "
        "emulator (the one `tinyforge bench` uses): the op's instructions and estimated cycles "
        "(m4sim's Cortex-M4 timing model, `sim/README.md`), the marker call included. Floors "
        "(`docs/dsp-kernels.md`): convolutions and fully connected layers with at least 16 "
        "input channels reach 1.0 MAC/cycle, 3x3 depthwise (multiplier 1) 0.5; no shape may "
        "run a portable reference kernel on a core with the DSP extension.\n\n");
    table(work);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "layer_shapes_bench: %s\n", e.what());
    return 1;
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  return 0;
}
