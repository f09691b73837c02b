// tinyforge run MODEL|BLOB --input F [--input F2 ...] --output F [--output F2 ...] [--cases N]
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/contract.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"

namespace tinyforge::cli {

void add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "run", "Run a model or plan blob on the host with the device runtime, on raw tensor files");
  struct Options {
    std::string model;
    std::vector<std::string> inputs, outputs;
    uint32_t cases = 0;
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
