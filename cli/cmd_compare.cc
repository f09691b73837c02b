// tinyforge compare MODEL --input F [--case N] [--target T] [--board B] [--json]
// Runs the model twice on the same input, keeping every op's output: on the host with the
// reference kernels, and on the emulated device with the target's (optimized) kernels.
// Prints every op's verdict, then for the first op whose outputs differ: the count of
// differing elements, max |diff| and a histogram of |diff|. Exit 4 when any op differs.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/contract.h"
#include "cli/profile.h"
#include "emit/validated_plan.h"
#include "host/compile.h"
#include "sim/output_check.h"
#include "tinyforge/ops.h"

namespace tinyforge::cli {
namespace {

using nlohmann::ordered_json;

struct Options {
  std::string model, target = "cortex-m4", board;
  std::vector<std::string> inputs;
  uint32_t case_index = 0;
  uint64_t max_instructions = sim::RunOptions{}.max_instructions;
  int64_t flip_op = -1;  // test-only: corrupt this op's output on the device by one LSB
  Result result;
};

// |diff| histogram buckets: exact powers of two as upper bounds (integers in LSBs).
constexpr double kBuckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
constexpr size_t kNumBuckets = sizeof kBuckets / sizeof kBuckets[0] + 1;

struct Diff {
  uint64_t elements = 0, differing = 0;
  double max_abs = 0;
  int64_t first = -1;  // element index of the first difference
  std::vector<uint64_t> histogram = std::vector<uint64_t>(kNumBuckets, 0);
};

double element(DType type, const std::vector<uint8_t>& b, size_t i) {
  switch (type) {
    case DType::f32: {
      float x;
      std::memcpy(&x, b.data() + 4 * i, 4);
      return x;
    }
    case DType::i8:
      return static_cast<int8_t>(b[i]);
    case DType::u8:
      return b[i];
    case DType::i16: {
      int16_t x;
      std::memcpy(&x, b.data() + 2 * i, 2);
      return x;
    }
    case DType::i32: {
      int32_t x;
      std::memcpy(&x, b.data() + 4 * i, 4);
      return x;
    }
    case DType::u32: {
      uint32_t x;
      std::memcpy(&x, b.data() + 4 * i, 4);
      return x;
    }
    case DType::u64: {
      uint64_t x;
      std::memcpy(&x, b.data() + 8 * i, 8);
      return static_cast<double>(x);
    }
    default:
      return b[i];
  }
}

void add(Diff& d, DType type, const std::vector<uint8_t>& ref, const std::vector<uint8_t>& dev) {
  const uint32_t size = std::max<uint32_t>(1, dtype_size(type));
  const size_t n = std::min(ref.size(), dev.size()) / size;
  for (size_t i = 0; i < n; ++i) {
    const double r = element(type, ref, i), v = element(type, dev, i);
    const double diff = std::fabs(v - r);
    const bool differs = type == DType::f32
                             ? !(diff <= sim::kFloatAbsTol + sim::kFloatRelTol * std::fabs(r))
                             : std::memcmp(ref.data() + i * size, dev.data() + i * size, size) != 0;
    if (!differs) continue;
    if (d.first < 0) d.first = static_cast<int64_t>(d.elements + i);
    ++d.differing;
    d.max_abs = std::max(d.max_abs, std::isnan(diff) ? INFINITY : diff);
    size_t b = 0;
    while (b < kNumBuckets - 1 && diff > kBuckets[b]) ++b;
    ++d.histogram[b];
  }
  d.elements += n;
}

std::string bucket_label(size_t b, bool is_float) {
  const char* unit = is_float ? "" : " LSB";
  if (b == 0) return fmt::format("<= {:g}{}", kBuckets[0], unit);
  if (b == kNumBuckets - 1) return fmt::format("> {:g}{}", kBuckets[b - 1], unit);
  return fmt::format("({:g}, {:g}]{}", kBuckets[b - 1], kBuckets[b], unit);
}

void compare(const Options& o) {
  const InputFile file = read_input(o.model);
  if (file.kind == FileKind::plan_blob)
    throw tinyforge::Error(o.model +
                           ": a compiled plan blob, not a model (give the .tflite or .onnx model: "
                           "compare compiles it for the host and for the target)");
  const host::Compiled ref =
      host::compile_model_file(o.model, host::plan_options_for_target("host"));
  const host::Compiled dev =
      host::compile_model_file(o.model, host::plan_options_for_target(o.target));
  if (ref.plan.ops.size() != dev.plan.ops.size())
    throw tinyforge::Error(fmt::format("{}: {} ops for the host, {} for {}: cannot pair them",
                                       o.model, ref.plan.ops.size(), dev.plan.ops.size(),
                                       o.target));
  const auto inputs = model_inputs_from(ref.blob, o.model, o.inputs, o.case_index);
  std::vector<uint8_t> input_bytes;
  for (const auto& t : inputs) input_bytes.insert(input_bytes.end(), t.begin(), t.end());

  const OpOutputs host_out = host_op_outputs(ref.blob, o.model, inputs);
  DeviceOptions d;
  d.target = o.target;
  d.board = o.board;
  d.max_instructions = o.max_instructions;
  d.capture = true;
  if (o.flip_op >= 0) d.flip_op = static_cast<uint32_t>(o.flip_op);
  const DeviceRun run = device_run(dev.blob, o.model, input_bytes, d);

  ordered_json j;
  j["model"] = o.model;
  j["target"] = run.image.target.name;
  j["reference"] = "host, reference kernels";
  j["device"] = fmt::format(
      "emulated {}, {} kernels", run.image.target.name,
      blob_target(dev.blob) && blob_target(dev.blob)->dsp_kernels ? "armv7em" : "reference");
  j["ops"] = ordered_json::array();
  std::string text = fmt::format("{}: host reference kernels vs emulated {} ({})\n", o.model,
                                 run.image.target.name, j["device"].get<std::string>());
  int64_t first_bad = -1;
  Diff first_diff;
  bool first_float = false;
  uint64_t bad_ops = 0;
  for (size_t i = 0; i < ref.plan.ops.size(); ++i) {
    const plan::PlanOp& op = dev.plan.ops[i];
    Diff diff;
    bool is_float = false;
    for (size_t k = 0; k < op.outputs.size() && k < host_out[i].size() && k < run.outputs[i].size();
         ++k) {
      const DType type = dev.plan.tensors[op.outputs[k]].type;
      is_float = is_float || type == DType::f32;
      add(diff, type, host_out[i][k], run.outputs[i][k]);
    }
    ordered_json jo = {{"index", i},
                       {"op", op_info(ref.plan.ops[i].op).name},
                       {"kernel", op_info(op.op).name},
                       {"name", op.name},
                       {"elements", diff.elements},
                       {"differing", diff.differing},
                       {"max_abs_diff", diff.max_abs}};
    j["ops"].push_back(jo);
    text += fmt::format(
        "  {:3} {:<16} {:<20} {}\n", i, op_info(ref.plan.ops[i].op).name, op_info(op.op).name,
        diff.differing ? fmt::format("DIFFERS: {} of {} element(s), max |diff| {:g}",
                                     diff.differing, diff.elements, diff.max_abs)
                       : fmt::format("same ({} element(s))", diff.elements));
    if (diff.differing) {
      ++bad_ops;
      if (first_bad < 0) {
        first_bad = static_cast<int64_t>(i);
        first_diff = diff;
        first_float = is_float;
      }
    }
  }
  j["differing_ops"] = bad_ops;
  if (first_bad < 0) {
    j["first_diverging_op"] = nullptr;
    text += fmt::format("every op's output matches ({} ops)\n", ref.plan.ops.size());
    o.result.print(j, text);
    return;
  }
  const plan::PlanOp& op = dev.plan.ops[first_bad];
  const std::string quoted = op.name.empty() ? "" : " '" + op.name + "'";
  ordered_json hist = ordered_json::array();
  text += fmt::format(
      "first diverging op: {} {}{} (kernel {}): {} of {} element(s) differ, first at "
      "element {}, max |diff| {:g}{}\n  |diff| histogram:\n",
      first_bad, op_info(ref.plan.ops[first_bad].op).name, quoted, op_info(op.op).name,
      first_diff.differing, first_diff.elements, first_diff.first, first_diff.max_abs,
      first_float ? "" : " LSB");
  const uint64_t most = *std::max_element(first_diff.histogram.begin(), first_diff.histogram.end());
  for (size_t b = 0; b < kNumBuckets; ++b) {
    const uint64_t n = first_diff.histogram[b];
    if (!n) continue;
    hist.push_back({{"bucket", bucket_label(b, first_float)}, {"count", n}});
    text += fmt::format(
        "    {:>14} {:>8} {}\n", bucket_label(b, first_float), n,
        std::string(static_cast<size_t>(40.0 * n / std::max<uint64_t>(1, most)) + 1, '#'));
  }
  j["first_diverging_op"] = {{"index", first_bad},
                             {"op", op_info(ref.plan.ops[first_bad].op).name},
                             {"kernel", op_info(op.op).name},
                             {"name", op.name},
                             {"differing", first_diff.differing},
                             {"elements", first_diff.elements},
                             {"first_element", first_diff.first},
                             {"max_abs_diff", first_diff.max_abs},
                             {"histogram", hist}};
  o.result.print(j, text);
  throw VerifyError(fmt::format(
      "{}: op {} {}{} (kernel {}) is the first whose output differs on {} from "
      "the host reference kernels: {} of {} element(s), max |diff| {:g}",
      o.model, first_bad, op_info(ref.plan.ops[first_bad].op).name, quoted, op_info(op.op).name,
      run.image.target.name, first_diff.differing, first_diff.elements, first_diff.max_abs));
}

}  // namespace

void add_compare(CLI::App& app) {
  auto* cmd = app.add_subcommand("compare",
                                 "Run the model on the host reference kernels and on the emulated "
                                 "device; name the first layer "
                                 "whose output differs");
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model (TFLite/ONNX)")->required();
  cmd->add_option("-i,--input", o->inputs,
                  "raw tensor file per model input (the model input's dtype)")
      ->required();
  cmd->add_option("--case", o->case_index, "which tensor of the --input files to use")
      ->capture_default_str();
  cmd->add_option("-t,--target", o->target, "cortex-m4 | cortex-m7 | cortex-m0plus | cortex-m33")
      ->check(target_check(false))
      ->capture_default_str();
  cmd->add_option("-b,--board", o->board, "board from targets/boards.json (memory map)");
  cmd->add_option("--max-instructions", o->max_instructions,
                  "stop the emulation after this many instructions")
      ->check(whole_number(1))
      ->capture_default_str();
  // Test-only (hidden): shows that a one-LSB error in one kernel's output is found.
  cmd->add_option("--test-flip-lsb", o->flip_op)->group("");
  o->result.add_flag(cmd);
  cmd->footer(
      "Integer outputs are compared exactly (|diff| in LSBs), float32 within docs/numerics.md's\n"
      "tolerance. Exit codes: 0 every op matches, 1 input error, 2 usage, 4 an op differs\n"
      "(docs/cli.md).");
  cmd->callback([o] { compare(*o); });
}

}  // namespace tinyforge::cli
