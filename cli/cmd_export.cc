// tinyforge export MODEL --tflite -o OUT.tflite
#include <cstdio>

#include "cli/commands.h"
#include "export/tflite_writer.h"
#include "import/load_model.h"
#include "io/files.h"

namespace tinyforge::cli {

void add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export", "Write a model (.tflite/.onnx, float or int8) as a TFLite flatbuffer");
  struct Options {
    std::string model, out;
    bool tflite = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model file (.tflite or .onnx)")->required();
  cmd->add_flag("--tflite", o->tflite, "write a .tflite flatbuffer (the one format for now)")
      ->required();
  cmd->add_option("-o,--output", o->out, "file to write")->required();
  cmd->footer(
      "The graph is written as tinyforge imports it (ONNX: NHWC, batch norm folded, "
      "activations fused).");
  cmd->callback([o] {
    const ir::Graph graph = load_model(o->model);
    const std::vector<uint8_t> bytes = tflite_export::write_tflite(graph);
    io::write_file(o->out, bytes);
    std::printf("%s: %zu ops, %zu bytes\n", o->out.c_str(), graph.nodes.size(), bytes.size());
  });
}

}  // namespace tinyforge::cli
