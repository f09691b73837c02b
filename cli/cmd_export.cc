// tinyforge export MODEL --tflite [--json] -o OUT.tflite
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/contract.h"
#include "export/tflite_writer.h"
#include "import/load_model.h"
#include "io/files.h"

namespace tinyforge::cli {

void add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export", "Write a model (TFLite/ONNX, float or int8) as a TFLite flatbuffer");
  struct Options {
    std::string model, out;
    bool tflite = false;
    Result result;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model file (TFLite or ONNX)")->required();
  cmd->add_flag("--tflite", o->tflite, "write a .tflite flatbuffer (the one format for now)")
      ->required();
  cmd->add_option("-o,--output", o->out, "file to write")->required();
  o->result.add_flag(cmd);
  cmd->footer(
      "The graph is written as tinyforge imports it (ONNX: NHWC, batch norm folded, "
      "activations fused).");
  cmd->callback([o] {
    check_output(o->out, {o->model});
    read_input(o->model);
    const ir::Graph graph = load_model(o->model);
    const std::vector<uint8_t> bytes = tflite_export::write_tflite(graph);
    io::write_file(o->out, bytes);
    nlohmann::ordered_json j;
    j["output"] = o->out;
    j["ops"] = graph.nodes.size();
    j["bytes"] = bytes.size();
    o->result.print(
        j, fmt::format("{}: {} ops, {} bytes\n", o->out, graph.nodes.size(), bytes.size()));
  });
}

}  // namespace tinyforge::cli
