// tinyforge run MODEL|BLOB --input F [--input F2 ...] --output F [--output F2 ...] [--cases N]
//               [--int64-inputs]
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "cli/contract.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"

namespace tinyforge::cli {
namespace {

// A raw file of int64 values (ONNX int64 indices, as PyTorch writes token ids) narrowed to
// the int32 the model input holds: `tensor_elements` values per case. A value outside int32
// or a size that is not whole int64 tensors is an error naming the file, case and element.
std::vector<uint8_t> narrowed_int64_file(const std::string& path, const std::vector<uint8_t>& data,
                                         uint32_t tensor_elements) {
  if (tensor_elements == 0 || data.empty() || data.size() % (8u * tensor_elements) != 0)
    throw tinyforge::Error(
        fmt::format("{}: {} bytes is not a whole number of {}-element int64 tensors (raw "
                    "little-endian int64, no header)",
                    path, data.size(), tensor_elements));
  std::vector<uint8_t> narrow(data.size() / 2);
  for (size_t k = 0; k < data.size() / 8; ++k) {
    int64_t v;
    std::memcpy(&v, data.data() + 8 * k, 8);
    if (v < INT32_MIN || v > INT32_MAX)
      throw tinyforge::Error(
          fmt::format("{}: {} at case {}, element {} is outside int32 (int64 inputs run as int32 "
                      "indices)",
                      path, v, k / tensor_elements, k % tensor_elements));
    const auto v32 = static_cast<int32_t>(v);
    std::memcpy(narrow.data() + 4 * k, &v32, 4);
  }
  return narrow;
}

}  // namespace

void add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "run", "Run a model or plan blob on the host with the device runtime, on raw tensor files");
  struct Options {
    std::string model;
    std::vector<std::string> inputs, outputs;
    uint32_t cases = 0;
    bool int64_inputs = false;
    Result result;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model (TFLite/ONNX) or plan blob")->required();
  cmd->add_option("-i,--input", o->inputs,
                  "raw little-endian tensor file per model input, in model order; N cases "
                  "concatenated")
      ->required();
  cmd->add_option("-o,--output", o->outputs, "file to write per model output, in model order")
      ->required();
  cmd->add_option("-n,--cases", o->cases,
                  "cases to run, at least 1 (default: whole tensors in the first input file)")
      ->check(whole_number(1));
  cmd->add_flag("--int64-inputs", o->int64_inputs,
                "int32 model inputs (ONNX int64 indices) are read from int64 files, each value "
                "checked to fit int32");
  o->result.add_flag(cmd);
  cmd->footer(
      "Input files use the tensor's own dtype (int8, float32, ...), no header, as in "
      "../shared/golden.");
  cmd->callback([o] {
    std::vector<std::string> reads = o->inputs;
    reads.push_back(o->model);
    for (const std::string& out : o->outputs) check_output(out, reads);
    const InputFile file = read_input(o->model);
    host::HostRunner runner(
        file.kind == FileKind::plan_blob ? file.bytes : host::compile_model_file(o->model).blob,
        o->model);
    const Runtime& rt = runner.runtime();
    if (o->inputs.size() != rt.num_inputs())
      throw UsageError(fmt::format("{}: the model has {} input(s), {} --input given", o->model,
                                   rt.num_inputs(), o->inputs.size()));
    if (o->outputs.size() != rt.num_outputs())
      throw UsageError(fmt::format("{}: the model has {} output(s), {} --output given", o->model,
                                   rt.num_outputs(), o->outputs.size()));
    std::vector<std::vector<uint8_t>> inputs;
    uint32_t available = 0;
    for (uint32_t i = 0; i < rt.num_inputs(); ++i) {
      inputs.push_back(io::read_file(o->inputs[i]));
      const TensorView v = rt.input(i);
      if (o->int64_inputs && v.type == DType::i32)
        inputs.back() = narrowed_int64_file(o->inputs[i], inputs.back(), v.bytes / 4);
      check_tensor_file(o->inputs[i], inputs.back(), v.type, v.bytes);
      const auto cases = static_cast<uint32_t>(inputs.back().size() / v.bytes);
      available = i == 0 ? cases : std::min(available, cases);
    }
    const uint32_t cases = o->cases ? o->cases : available;
    if (cases > available)
      throw UsageError(
          fmt::format("{}: holds {} case(s), --cases {} asked", o->inputs[0], available, cases));
    const auto outputs = runner.run(inputs, cases);
    for (size_t i = 0; i < outputs.size(); ++i) io::write_file(o->outputs[i], outputs[i]);
    nlohmann::ordered_json j;
    j["model"] = o->model;
    j["cases"] = cases;
    j["outputs"] = o->outputs;
    o->result.print(j, fmt::format("ran {} case(s)\n", cases));
  });
}

}  // namespace tinyforge::cli
