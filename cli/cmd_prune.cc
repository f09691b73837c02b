// tinyforge prune MODEL --sparsity S [--structured] [--calibration FILE ...] [--verbose]
//                 -o OUT.tflite
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "cli/commands.h"
#include "cli/contract.h"
#include "emit/plan_writer.h"
#include "export/tflite_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ir/metrics.h"
#include "plan/build_plan.h"
#include "prune/channel_prune.h"
#include "prune/magnitude_prune.h"
#include "prune/reconstruct.h"

namespace tinyforge::cli {
namespace {

struct Figures {
  ir::GraphMetrics metrics;
  double sparsity = 0;
  std::optional<uint32_t> arena, blob;  // absent when the graph does not compile
};

Figures figures(const ir::Graph& g) {
  Figures f;
  f.metrics = ir::graph_metrics(g);
  f.sparsity = prune::weight_sparsity(g);
  try {
    const plan::Plan p = plan::build_plan(g);
    f.arena = p.arena_size;
    f.blob = static_cast<uint32_t>(emit::write_plan_blob(p).size());
  } catch (const tinyforge::Error&) {
  }
  return f;
}

std::string opt(const std::optional<uint32_t>& v) { return v ? fmt::format("{}", *v) : "-"; }

}  // namespace

void add_prune(CLI::App& app) {
  auto* cmd = app.add_subcommand("prune",
                                 "Magnitude pruning: zero small weights, or remove whole channels");
  struct Options {
    std::string model, out;
    std::vector<std::string> calibration;
    double sparsity = 0;
    bool structured = false, verbose = false;
    Result result;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model (TFLite or ONNX)")->required();
  cmd->add_option("-s,--sparsity", o->sparsity,
                  "share of weights (or channels) to remove, 0 <= S < 1")
      ->required()
      ->check(fraction_below_one());
  cmd->add_flag("--structured", o->structured,
                "remove whole output channels (smallest L2 norm), shrinking the next layer too");
  cmd->add_option("-c,--calibration", o->calibration,
                  "raw input tensors (as for quantize): refit the kept weights by least squares "
                  "to the dense model's layer outputs");
  cmd->add_flag("-v,--verbose", o->verbose, "one line per layer");
  cmd->add_option("-o,--output", o->out, ".tflite file to write")->required();
  o->result.add_flag(cmd);
  cmd->footer(
      "Unstructured pruning keeps shapes (zeros compress); structured pruning shrinks "
      "MACs, parameters, flash and arena. Neither fine-tunes: check the accuracy.");
  cmd->callback([o] {
    std::vector<std::string> reads = o->calibration;
    reads.push_back(o->model);
    check_output(o->out, reads);
    read_input(o->model);
    const ir::Graph original = load_model(o->model);
    ir::Graph pruned = original;
    std::string text;
    std::function<void(const std::string&)> log;
    if (o->verbose) log = [&text](const std::string& line) { text += "  " + line + "\n"; };
    nlohmann::ordered_json j;
    j["output"] = o->out;
    std::vector<std::vector<int32_t>> kept_channels;
    if (o->structured) {
      const prune::ChannelPruneResult r = prune::prune_channels(pruned, o->sparsity, log);
      kept_channels = r.kept_channels;
      text += fmt::format("{}: removed {} output channel(s) in {} layer(s)\n", o->model,
                          r.channels_removed, r.layers);
      j["channels_removed"] = r.channels_removed;
    } else {
      const int64_t zeroed = prune::prune_unstructured(pruned, o->sparsity, log);
      text += fmt::format("{}: set {} weight(s) to zero\n", o->model, zeroed);
      j["weights_zeroed"] = zeroed;
    }
    if (!o->calibration.empty()) {
      std::vector<std::vector<uint8_t>> files;
      for (const std::string& f : o->calibration) files.push_back(io::read_file(f));
      const quantize::CalibrationSet data =
          quantize::make_calibration_set(original, std::move(files), o->calibration);
      Progress progress("refitting the kept weights (layers done)");
      int layers = 0;
      const auto refit_log = [&](const std::string& line) {
        if (log) log(line);
        progress.update(++layers, 0);
      };
      prune::reconstruct_pruned(pruned, original, data, prune::kDefaultRidge, refit_log,
                                kept_channels);
      progress.finish();
      text += fmt::format("refitted the kept weights on {} calibration case(s)\n", data.cases);
      j["refit_cases"] = data.cases;
    }
    const Figures before = figures(original), after = figures(pruned);
    const auto row = [&text](const char* what, const std::string& b, const std::string& a) {
      text += fmt::format("  {:<22} {:>14} {:>14}\n", what, b, a);
    };
    row("", "before", "after");
    row("MACs", fmt::format("{}", before.metrics.macs), fmt::format("{}", after.metrics.macs));
    row("params", fmt::format("{}", before.metrics.params),
        fmt::format("{}", after.metrics.params));
    row("weight bytes", fmt::format("{}", before.metrics.weight_bytes),
        fmt::format("{}", after.metrics.weight_bytes));
    row("weight sparsity", fmt::format("{:.1f}%", 100 * before.sparsity),
        fmt::format("{:.1f}%", 100 * after.sparsity));
    row("arena bytes", opt(before.arena), opt(after.arena));
    row("flash (plan blob) bytes", opt(before.blob), opt(after.blob));
    tflite_export::write_tflite_file(pruned, o->out);
    text += "wrote " + o->out + "\n";
    const auto figures_json = [](const Figures& f) {
      nlohmann::ordered_json x;
      x["macs"] = f.metrics.macs;
      x["params"] = f.metrics.params;
      x["weight_bytes"] = f.metrics.weight_bytes;
      x["weight_sparsity"] = f.sparsity;
      x["arena_bytes"] = f.arena ? nlohmann::ordered_json(*f.arena) : nullptr;
      x["blob_bytes"] = f.blob ? nlohmann::ordered_json(*f.blob) : nullptr;
      return x;
    };
    j["before"] = figures_json(before);
    j["after"] = figures_json(after);
    o->result.print(j, text);
  });
}

}  // namespace tinyforge::cli
