// tinyforge run MODEL|BLOB --input F [--input F2 ...] --output F [--output F2 ...] [--cases N]
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
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
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model (.tflite/.onnx) or plan blob (.tfp)")->required();
  cmd->add_option("-i,--input", o->inputs,
                  "raw little-endian tensor file per model input, in model order; N cases concatenated")
      ->required();
  cmd->add_option("-o,--output", o->outputs, "file to write per model output, in model order")->required();
  cmd->add_option("-n,--cases", o->cases,
                  "cases to run (default: whole tensors in the first input file)")
      ->check(CLI::PositiveNumber);
  cmd->footer("Input files use the tensor's own dtype (int8, float32, ...), no header, as in ../shared/golden.");
  cmd->callback([o] {
    host::HostRunner runner(host::blob_from_file(o->model), o->model);
    const Runtime& rt = runner.runtime();
    if (o->inputs.size() != rt.num_inputs())
      throw tinyforge::Error(fmt::format("{}: the model has {} input(s), {} --input given", o->model,
                                  rt.num_inputs(), o->inputs.size()));
    if (o->outputs.size() != rt.num_outputs())
      throw tinyforge::Error(fmt::format("{}: the model has {} output(s), {} --output given", o->model,
                                  rt.num_outputs(), o->outputs.size()));
    std::vector<std::vector<uint8_t>> inputs;
    for (const std::string& f : o->inputs) inputs.push_back(io::read_file(f));
    uint32_t cases = o->cases;
    if (cases == 0) {
      cases = static_cast<uint32_t>(inputs[0].size() / runner.input_bytes(0));
      if (cases == 0 || inputs[0].size() % runner.input_bytes(0) != 0)
        throw tinyforge::Error(fmt::format("{}: {} bytes is not a whole number of input tensors of {} bytes",
                                    o->inputs[0], inputs[0].size(), runner.input_bytes(0)));
    }
    const auto outputs = runner.run(inputs, cases);
    for (size_t i = 0; i < outputs.size(); ++i) io::write_file(o->outputs[i], outputs[i]);
    std::printf("ran %u case(s)\n", cases);
  });
}

}  // namespace tinyforge::cli
