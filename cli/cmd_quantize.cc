// tinyforge quantize MODEL --calibration FILE [--calibration FILE2 ...]
//                    [--method minmax|percentile|mse] [--percentile P] [--io float|int8]
//                    [--verbose] [--progress] -o OUT.tflite
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/contract.h"
#include "export/tflite_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ir/metrics.h"
#include "quantize/layer_error.h"
#include "quantize/quantize_graph.h"

namespace tinyforge::cli {
void add_quantize(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quantize", "int8 post-training quantization of a float model, written as an int8 .tflite");
  struct Options {
    std::string model, out, method = "minmax", io = "float";
    std::vector<std::string> calibration;
    double percentile = 99.99;
    bool verbose = false, progress = false, no_bias_correction = false;
    Result result;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "float model (TFLite or ONNX)")->required();
  cmd->add_option(
         "-c,--calibration", o->calibration,
         "raw input tensors (model input dtype, cases concatenated); repeat per model input")
      ->required();
  cmd->add_option("-m,--method", o->method, "activation range: minmax, percentile or mse")
      ->check(CLI::IsMember({"minmax", "percentile", "mse"}));
  CLI::Option* percentile =
      cmd->add_option("--percentile", o->percentile,
                      "kept share of values, 50..100 (only with --method percentile)")
          ->check(CLI::Range(50.0, 100.0));
  cmd->add_option("--io", o->io,
                  "model input/output type: float (Quantize/Dequantize inside) or int8")
      ->check(CLI::IsMember({"float", "int8"}));
  cmd->add_flag("--no-bias-correction", o->no_bias_correction,
                "keep the float bias (default: correct it for the mean shift of weight rounding)");
  cmd->add_flag("-v,--verbose", o->verbose, "print every range and decision");
  cmd->add_flag("--progress", o->progress, "progress bar even when stderr is not a terminal");
  cmd->add_option("-o,--output", o->out, ".tflite file to write")->required();
  o->result.add_flag(cmd);
  cmd->footer(
      "Conventions: TFLite int8 (per-channel symmetric weights, per-tensor asymmetric "
      "activations, int32 bias). The result runs with `tinyforge compile/run`.");
  cmd->callback([o, percentile] {
    if (percentile->count() > 0 && o->method != "percentile")
      throw UsageError(
          "quantize: --percentile applies only to --method percentile (add it, or "
          "drop --percentile)");
    std::vector<std::string> reads = o->calibration;
    reads.push_back(o->model);
    check_output(o->out, reads);
    read_input(o->model);
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
    std::unique_ptr<Progress> bar;
    options.progress = [&bar, o](const quantize::Progress& p) {
      const std::string what = fmt::format("calibrating ({})", p.phase);
      if (!bar || p.done == 0) bar = std::make_unique<Progress>(what, o->progress);
      bar->update(p.done, p.total);
      if (p.done == p.total) bar->finish();
    };
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
    nlohmann::ordered_json j;
    j["output"] = o->out;
    j["method"] = o->method;
    j["calibration_cases"] = data.cases;
    j["ops"] = q.nodes.size();
    j["weight_bytes_before"] = before.weight_bytes;
    j["weight_bytes_after"] = after.weight_bytes;
    j["file_bytes"] = bytes.size();
    o->result.print(j, fmt::format("{}: int8 ({}, {} calibration case(s)), {} ops, weights {} -> "
                                   "{} bytes, file {} bytes\n",
                                   o->out, o->method, data.cases, q.nodes.size(),
                                   before.weight_bytes, after.weight_bytes, bytes.size()));
  });
}

}  // namespace tinyforge::cli
