// depthwise_multiplier_bench SHARED_DIR: depthwise convolutions of depth multiplier 1..8 on
// the emulated Cortex-M4, printed as Markdown (scripts/bench writes it to
// bench/results/depthwise_multiplier.md).
//
// Per shape, one op with seeded random int8 weights, quantization and input, three ways:
//  - reference: the portable reference kernel (what a multiplier above 1 ran before);
//  - selected: what `--target cortex-m4` selects (plan/select_kernels.cc);
//  - conv form: the equivalent Conv2D (block-diagonal filter, plan/pack_dsp.h
//    depthwise_filter_as_conv) on Conv2DDsp, also where the selection keeps the reference,
//    to show why it does.
// All shapes of one way run in one firmware with op markers (sim::OpMark: per-op
// instructions and estimated cycles, including the marker call). The three device outputs
// must be equal byte for byte, else the program fails.
// Then the golden models with such layers (micro_speech, person_detect), before and after.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "emit/firmware.h"
#include "emit/plan_writer.h"
#include "host/compile.h"
#include "io/files.h"
#include "ops/conv.h"
#include "plan/build_plan.h"
#include "plan/dsp_twin_cases.h"
#include "plan/pack_dsp.h"
#include "sim/emulator.h"
#include "tinyforge/ops.h"

using namespace tinyforge;
using namespace tinyforge::plan::twin_cases;
namespace fs = std::filesystem;

namespace {

struct Shape {
  int32_t h, w, c, multiplier, kh, kw, stride;
  ir::Padding padding;
};

std::vector<Shape> shapes() {
  std::vector<Shape> s;
  for (int32_t m = 1; m <= 8; ++m)  // micro_speech's first layer, multiplier 1..8
    s.push_back({49, 40, 1, m, 10, 8, 2, ir::Padding::same});
  for (int32_t m = 1; m <= 8; ++m) s.push_back({16, 16, 1, m, 3, 3, 1, ir::Padding::same});
  for (int32_t c : {2, 4, 8, 16})
    for (int32_t m : {2, 4}) s.push_back({16, 16, c, m, 3, 3, 1, ir::Padding::same});
  s.push_back({15, 15, 3, 2, 5, 5, 2, ir::Padding::valid});
  return s;
}

int64_t macs(const Shape& s) {
  const int32_t oh = window_out(s.h, s.kh, s.stride, 1, s.padding);
  const int32_t ow = window_out(s.w, s.kw, s.stride, 1, s.padding);
  return int64_t{oh} * ow * s.c * s.multiplier * s.kh * s.kw;
}

// One depthwise op of `s` (as_conv: the equivalent Conv2D node instead), appended to `g`.
void add_op(ir::Graph& g, const Shape& s, uint32_t seed, bool as_conv) {
  Rng rng(seed);
  GraphBuilder b{{}, rng};
  const int32_t oc = s.c * s.multiplier, taps = s.kh * s.kw;
  const float in_scale = log_uniform(rng, 0.01f, 0.1f);
  const int in = b.activation("in", {1, s.h, s.w, s.c}, in_scale, uniform(rng, -128, 127));
  float w_scale;
  const int filter = b.weights({1, s.kh, s.kw, oc}, oc, 3, &w_scale);
  const int bias = b.bias(oc, int64_t{taps} * 127 * 16);
  const float typical = in_scale * w_scale * 127.0f * std::sqrt(static_cast<float>(taps)) * 4.0f;
  const int out = b.activation("out",
                               {1, window_out(s.h, s.kh, s.stride, 1, s.padding),
                                window_out(s.w, s.kw, s.stride, 1, s.padding), oc},
                               typical, uniform(rng, -128, 127));
  ops::ConvAttrs a;
  a.activation = ir::Activation::relu;
  a.window.stride_h = a.window.stride_w = s.stride;
  a.window.padding = s.padding;
  a.depth_multiplier = s.multiplier;
  OpCode op = OpCode::DepthwiseConv2D;
  if (as_conv) {
    ir::Tensor& w = b.g.tensors[filter];
    const std::vector<int8_t> dw(w.data.begin(), w.data.end());
    const std::vector<int8_t> conv = plan::depthwise_filter_as_conv(dw, taps, s.c, s.multiplier);
    w.data.assign(conv.begin(), conv.end());
    w.shape = {oc, s.kh, s.kw, s.c};
    w.quant.axis = 0;
    a.depth_multiplier = 1;
    op = OpCode::Conv2D;
  }
  b.g.nodes.push_back(ir::Node{op, {in, filter, bias}, {out}, a, "dw"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  append_graph(g, b.g);
}

sim::ElfImage build_firmware(const plan::Plan& plan, const std::string& dir) {
  emit::FirmwareOptions fw;
  fw.target = "cortex-m4";
  fw.op_markers = true;
  const emit::FirmwareImage image =
      emit::build_firmware(emit::write_plan_blob(plan), fw, dir, [](const std::string&) {});
  return sim::read_elf(image.elf_path);
}

sim::RunResult run(const sim::ElfImage& elf, const std::vector<uint8_t>& input) {
  sim::RunOptions options;
  options.cpu = sim::Cpu::cortex_m4;
  options.input = input;
  return sim::run_firmware(elf, options);
}

struct Device {
  plan::Plan plan;
  sim::RunResult run;
};

Device run_on_core(const plan::Plan& plan, const std::vector<uint8_t>& input,
                   const std::string& dir) {
  return {plan, run(build_firmware(plan, dir), input)};
}

// Instructions and estimated cycles of op `i` (its mark minus the previous one).
struct Cost {
  uint64_t instructions, cycles;
};
Cost op_cost(const sim::RunResult& r, size_t i) {
  const sim::OpMark& m = r.op_marks.at(i);
  if (i == 0) return {m.instructions, m.cycles};
  return {m.instructions - r.op_marks[i - 1].instructions, m.cycles - r.op_marks[i - 1].cycles};
}

std::string thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string ratio(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

const char* padding_name(ir::Padding p) { return p == ir::Padding::same ? "same" : "valid"; }

void per_shape_table(const std::string& work) {
  const std::vector<Shape> all = shapes();
  ir::Graph depthwise, conv_form;
  for (size_t i = 0; i < all.size(); ++i) {
    add_op(depthwise, all[i], 1000 + static_cast<uint32_t>(i), false);
    add_op(conv_form, all[i], 1000 + static_cast<uint32_t>(i), true);
  }
  std::vector<uint8_t> input;
  Rng rng(77);
  for (int t : depthwise.inputs)
    for (int64_t k = 0; k < depthwise.tensors[t].bytes(); ++k)
      input.push_back(static_cast<uint8_t>(uniform(rng, 0, 255)));

  const plan::PlanOptions m4 = host::plan_options_for_target("cortex-m4");
  const Device reference = run_on_core(plan::build_plan(depthwise), input, work + "/reference");
  const Device selected = run_on_core(plan::build_plan(depthwise, m4), input, work + "/selected");
  const Device conv = run_on_core(plan::build_plan(conv_form, m4), input, work + "/conv");
  if (selected.run.output != reference.run.output || conv.run.output != reference.run.output)
    throw Error("the optimized outputs differ from the reference kernel's");
  for (const Device* d : {&reference, &selected, &conv})
    if (d->plan.ops.size() != all.size() || d->run.op_marks.size() != all.size())
      throw Error("expected one op and one op mark per shape");

  std::printf(
      "## Per shape (one op each; seeded random weights, quantization and input; fused ReLU)\n\n"
      "Instructions and estimated cycles of the op on the emulated Cortex-M4 (`sim/`), MACs "
      "per instruction. *reference*: the portable kernel; *selected*: what `--target "
      "cortex-m4` runs; *conv form*: the equivalent block-diagonal Conv2D on `Conv2DDsp`, "
      "measured for every shape (the selected kernel up to C = 8). The three outputs are "
      "byte-identical.\n\n");
  std::printf(
      "| input HxWxC | M | filter, stride, padding | MACs | reference instr. | MAC/instr. | "
      "selected kernel | instr. | MAC/instr. | cycles (est.) | conv form instr. | MAC/instr. | "
      "speed-up (instr.) |\n"
      "|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
  for (size_t i = 0; i < all.size(); ++i) {
    const Shape& s = all[i];
    const double n = static_cast<double>(macs(s));
    const Cost r = op_cost(reference.run, i), d = op_cost(selected.run, i),
               c = op_cost(conv.run, i);
    std::printf(
        "| %dx%dx%d | %d | %dx%d, %d, %s | %s | %s | %s | `%s` | %s | %s | %s | %s | %s | %s |\n",
        s.h, s.w, s.c, s.multiplier, s.kh, s.kw, s.stride, padding_name(s.padding),
        thousands(macs(s)).c_str(), thousands(r.instructions).c_str(),
        ratio(n / static_cast<double>(r.instructions)).c_str(),
        op_info(selected.plan.ops[i].op).name, thousands(d.instructions).c_str(),
        ratio(n / static_cast<double>(d.instructions)).c_str(), thousands(d.cycles).c_str(),
        thousands(c.instructions).c_str(), ratio(n / static_cast<double>(c.instructions)).c_str(),
        ratio(static_cast<double>(r.instructions) / static_cast<double>(d.instructions)).c_str());
  }
  std::printf("\n");
}

// A golden model with depthwise layers of multiplier above 1, golden case 0: its ops with
// the reference kernels and with the cortex-m4 selection; the cortex-m4 firmware is checked
// against every golden case, the reference one against case 0. "before" is the cortex-m4
// plan with those layers on the reference kernel (what the selection ran before): its total
// minus their new cost plus their reference cost.
void model_section(const std::string& shared, const std::string& name, const std::string& work) {
  const std::string model = shared + "/models/" + name + ".tflite";
  const std::string golden = shared + "/golden/" + name;
  const host::Compiled ref = host::compile_model_file(model);
  const host::Compiled m4 =
      host::compile_model_file(model, host::plan_options_for_target("cortex-m4"));
  const std::vector<uint8_t> in = io::read_file(golden + "/in0.bin");
  const std::vector<uint8_t> out = io::read_file(golden + "/out0.bin");
  const auto in_bytes = static_cast<size_t>(ref.graph.tensors[ref.graph.inputs.at(0)].bytes());
  const auto out_bytes = static_cast<size_t>(ref.graph.tensors[ref.graph.outputs.at(0)].bytes());
  const size_t cases = in.size() / in_bytes;
  if (cases == 0 || in.size() != cases * in_bytes || out.size() != cases * out_bytes)
    throw Error(name + ": the golden files do not hold whole cases");
  auto golden_case = [](const std::vector<uint8_t>& bytes, size_t k, size_t n) {
    const auto at = bytes.begin() + static_cast<std::ptrdiff_t>(k * n);
    return std::vector<uint8_t>(at, at + static_cast<std::ptrdiff_t>(n));
  };
  const Device before = run_on_core(ref.plan, golden_case(in, 0, in_bytes), work + "/" + name);
  const sim::ElfImage m4_elf = build_firmware(m4.plan, work + "/" + name + "_m4");
  const Device after{m4.plan, run(m4_elf, golden_case(in, 0, in_bytes))};
  if (before.run.output != golden_case(out, 0, out_bytes))
    throw Error(name + ": the reference kernels' output on the core differs from the golden one");
  for (size_t k = 0; k < cases; ++k)  // case 0 may be a constant input (micro_speech's is)
    if (run(m4_elf, golden_case(in, k, in_bytes)).output != golden_case(out, k, out_bytes))
      throw Error(name + ": case " + std::to_string(k) + " on the core differs from golden");
  const size_t ops = after.plan.ops.size();
  if (before.plan.ops.size() != ops || m4.graph.nodes.size() != ops)
    throw Error(name + ": expected one op per graph node in both plans");

  std::printf(
      "## %s (golden case 0; the cortex-m4 firmware's outputs equal all %zu golden "
      "cases)\n\n",
      name.c_str(), cases);
  std::printf(
      "Its depthwise layers of multiplier above 1 on the emulated Cortex-M4: the reference "
      "kernel (before) and the selected one.\n\n"
      "| op | layer | MACs | reference instr. | MAC/instr. | MAC/cycle | now | instr. | "
      "MAC/instr. | MAC/cycle | speed-up (instr.) |\n"
      "|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n");
  int64_t moved = 0;  // instructions the selection saved on these layers
  int64_t moved_cycles = 0;
  for (size_t i = 0; i < ops; ++i) {
    const ir::Node& n = m4.graph.nodes[i];
    if (n.op != OpCode::DepthwiseConv2D || n.params.get<ops::ConvAttrs>().depth_multiplier == 1)
      continue;
    const auto& in_shape = m4.graph.tensors[n.inputs[0]].shape;
    const auto& w = m4.graph.tensors[n.inputs[1]].shape;
    const auto& o = m4.graph.tensors[n.outputs[0]].shape;
    const double macs = static_cast<double>(o[0]) * o[1] * o[2] * o[3] * w[1] * w[2];
    const Cost r = op_cost(before.run, i), d = op_cost(after.run, i);
    moved += static_cast<int64_t>(r.instructions) - static_cast<int64_t>(d.instructions);
    moved_cycles += static_cast<int64_t>(r.cycles) - static_cast<int64_t>(d.cycles);
    std::printf(
        "| %zu | %dx%dx%d, M %d, %dx%d | %s | %s | %s | %s | `%s` | %s | %s | %s | %s |\n", i,
        in_shape[1], in_shape[2], in_shape[3], o[3] / in_shape[3], w[1], w[2],
        thousands(static_cast<uint64_t>(macs)).c_str(), thousands(r.instructions).c_str(),
        ratio(macs / static_cast<double>(r.instructions)).c_str(),
        ratio(macs / static_cast<double>(r.cycles)).c_str(), op_info(after.plan.ops[i].op).name,
        thousands(d.instructions).c_str(),
        ratio(macs / static_cast<double>(d.instructions)).c_str(),
        ratio(macs / static_cast<double>(d.cycles)).c_str(),
        ratio(static_cast<double>(r.instructions) / static_cast<double>(d.instructions)).c_str());
  }
  const uint64_t total_before = after.run.instructions + static_cast<uint64_t>(moved);
  const uint64_t cycles_before = after.run.cycles_estimate + static_cast<uint64_t>(moved_cycles);
  std::printf(
      "\nWhole model, cortex-m4: before %s instructions (%s cycles est.), now %s (%s), "
      "%sx fewer instructions; all reference kernels: %s.\n\n",
      thousands(total_before).c_str(), thousands(cycles_before).c_str(),
      thousands(after.run.instructions).c_str(), thousands(after.run.cycles_estimate).c_str(),
      ratio(static_cast<double>(total_before) / static_cast<double>(after.run.instructions))
          .c_str(),
      thousands(before.run.instructions).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: depthwise_multiplier_bench SHARED_DIR\n");
    return 2;
  }
  const std::string work =
      (fs::temp_directory_path() / ("tinyforge-dwm-bench-" + std::to_string(::getpid()))).string();
  try {
    std::printf(
        "# Depthwise convolutions with depth multiplier 1..8 on Cortex-M4\n\n"
        "Generated by `build/host/tests/depthwise_multiplier_bench ../shared` "
        "(`bench/depthwise_multiplier.cc`, run by `make bench`). A multiplier above 1 (or a single "
        "input channel) runs as the equivalent Conv2D on `Conv2DDsp` for up to 8 input "
        "channels (`docs/dsp-kernels.md`).\n\n");
    per_shape_table(work);
    for (const char* name : {"micro_speech_quantized", "person_detect"})
      model_section(argv[1], name, work);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "depthwise_multiplier_bench: %s\n", e.what());
    return 1;
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  return 0;
}
