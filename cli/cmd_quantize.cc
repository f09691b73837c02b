// tinyforge quantize MODEL --calibration FILE [--calibration FILE2 ...]
//                    [--method minmax|percentile|mse] [--percentile P] [--io float|int8]
//                    [--verbose] [--progress] -o OUT.tflite
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "export/tflite_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ir/metrics.h"
#include "quantize/layer_error.h"
#include "quantize/quantize_graph.h"

namespace tinyforge::cli {
namespace {

// One line on stderr redrawn in place: "calibrating (ranges) [#####.....] 5/10".
void draw_progress(const quantize::Progress& p) {
  constexpr int kWidth = 30;
  const int filled = p.total ? static_cast<int>(int64_t{kWidth} * p.done / p.total) : kWidth;
  std::fprintf(stderr, "\rcalibrating (%s) [%s%s] %u/%u", p.phase, std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), p.done, p.total);
  if (p.done == p.total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace

void add_quantize(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quantize", "int8 post-training quantization of a float model, written as an int8 .tflite");
  struct Options {
    std::string model, out, method = "minmax", io = "float";
    std::vector<std::string> calibration;
    double percentile = 99.99;
    bool verbose = false, progress = false, no_bias_correction = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "float model (.tflite or .onnx)")->required();
  cmd->add_option(
         "-c,--calibration", o->calibration,
         "raw input tensors (model input dtype, cases concatenated); repeat per model input")
      ->required();
  cmd->add_option("-m,--method", o->method, "activation range: minmax, percentile or mse")
      ->check(CLI::IsMember({"minmax", "percentile", "mse"}));
  cmd->add_option("--percentile", o->percentile, "kept share of values for --method percentile")
      ->check(CLI::Range(50.0, 100.0));
  cmd->add_option("--io", o->io,
                  "model input/output type: float (Quantize/Dequantize inside) or int8")
      ->check(CLI::IsMember({"float", "int8"}));
  cmd->add_flag("--no-bias-correction", o->no_bias_correction,
                "keep the float bias (default: correct it for the mean shift of weight rounding)");
  cmd->add_flag("-v,--verbose", o->verbose, "print every range and decision");
  cmd->add_flag("--progress", o->progress, "progress bar even when stderr is not a terminal");
  cmd->add_option("-o,--output", o->out, ".tflite file to write")->required();
  cmd->footer(
      "Conventions: TFLite int8 (per-channel symmetric weights, per-tensor asymmetric "
      "activations, int32 bias). The result runs with `tinyforge compile/run`.");
  cmd->callback([o] {
    const ir::Graph graph = load_model(o->model);
    std::vector<std::vector<uint8_t>> files;
    for (const std::string& f : o->calibration) files.push_back(io::read_file(f));
    const quantize::CalibrationSet data =
        quantize::make_calibration_set(graph, std::move(files), o->calibration);

    quantize::QuantizeOptions options;
    options.method = quantize::parse_range_method(o->method);
    options.percentile = o->percentile;
    options.int8_io = o->io == "int8";
    options.bias_correction = !o->no_bias_correction;
    if (o->progress || isatty(fileno(stderr))) options.progress = draw_progress;
    if (o->verbose)
      options.log = [](const std::string& line) { std::printf("  %s\n", line.c_str()); };

    const ir::Graph q = quantize::quantize_model(graph, data, options);
    if (o->verbose) {
      std::printf("  quantization error per tensor on the calibration set (SQNR vs float):\n");
      for (const quantize::LayerError& e : quantize::layer_errors(graph, q, data))
        std::printf("    %8.2f dB  %s\n", e.sqnr_db, e.tensor.c_str());
    }
    const std::vector<uint8_t> bytes = tflite_export::write_tflite(q);
    io::write_file(o->out, bytes);
    const ir::GraphMetrics before = ir::graph_metrics(graph), after = ir::graph_metrics(q);
    std::printf(
        "%s: int8 (%s, %u calibration case(s)), %zu ops, weights %lld -> %lld bytes, "
        "file %zu bytes\n",
        o->out.c_str(), o->method.c_str(), data.cases, q.nodes.size(),
        static_cast<long long>(before.weight_bytes), static_cast<long long>(after.weight_bytes),
        bytes.size());
  });
}

}  // namespace tinyforge::cli
